"""How many events `python -m services.notify run` handles at once (services/notify/__main__.py)."""


def test_sixty_workers_on_postgresql_the_usual_on_sqlite_and_the_operator_decides():
    from services.notify.__main__ import POSTGRESQL_WORKERS, max_workers
    postgresql = {"NOTIFY_DATABASE_URL": "postgresql+psycopg2://notify@db:5432/notify"}
    assert max_workers(postgresql) == {"max_workers": POSTGRESQL_WORKERS} == {"max_workers": 60}
    assert max_workers({"VAR_DIR": "/tmp/var"}) == {}  # SQLite: MAX_WORKERS as for every service
    assert max_workers({**postgresql, "NOTIFY_MAX_WORKERS": "25"}) == {"max_workers": 25}
