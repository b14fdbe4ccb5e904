"""Time arithmetic done by the database, the same on SQLite and PostgreSQL: figures over a national
year are counted where the rows are, not carried into Python one by one."""
from sqlalchemy import Date, cast, func


def beijing_day(column, dialect):
    """The Beijing calendar day of a UTC instant (China keeps no daylight saving): a date, whose str()
    is "YYYY-MM-DD" (SQLite answers that text). A cast, not to_char: cheaper per row in a GROUP BY."""
    if dialect == "sqlite":
        return func.date(column, "+8 hours")
    return cast(func.timezone("Asia/Shanghai", column), Date)


def seconds_between(start, end, dialect):
    """end − start in seconds, as a number the database can sort and average."""
    if dialect == "sqlite":
        return (func.julianday(end) - func.julianday(start)) * 86400.0
    return func.extract("epoch", end - start)
