"""The migration that renames `appeals` to `feedback` keeps every row, sealed values included, and
goes back without loss (SQLite, and PostgreSQL with TEST_DATABASE=postgresql)."""
import base64
from datetime import datetime, timezone

import pytest
from sqlalchemy import MetaData, Table, insert, inspect, select
from sqlalchemy.orm import Session

from services.common import migrations
from services.common.crypto import DataCipher
from services.common.db import make_engine
from services.registration import models
from services.registration.repository import FeedbackRepository

pytestmark = pytest.mark.integration
BEFORE = "3a9f5d0c61e2"  # 0003_audit_log_platform_shape: the table was still `appeals`
AT = datetime(2020, 7, 3, 2, 0, tzinfo=timezone.utc)
CIPHER = DataCipher("k1:" + base64.b64encode(b"k" * 32).decode(), "blind-index-key")


def rows(sqlite):
    at = AT.replace(tzinfo=None) if sqlite else AT
    return [
        {"id": "f-1", "account_id": "u-zhang", "message": "名单缺少我的记录", "state": "OPEN", "created_at": at,
         "name_enc": CIPHER.encrypt("张三", "appeal.name"),
         "id_number_enc": CIPHER.encrypt("11010519491231002X", "appeal.id_number"),
         "note": None, "resolved_by": None, "resolved_at": None},
        {"id": "f-2", "account_id": "u-nobody", "message": "无法实名认证", "state": "RESOLVED", "created_at": at,
         "name_enc": None, "id_number_enc": None, "note": "已补录", "resolved_by": "admin-1", "resolved_at": at},
    ]


def read(engine, table):
    with engine.connect() as conn:
        t = Table(table, MetaData(), autoload_with=conn)
        return [(r.id, r.account_id, r.state, r.note) for r in conn.execute(select(t).order_by(t.c.id))]


def test_appeals_become_feedback_with_every_row_and_back(database_url):
    engine = make_engine(database_url("registration"))
    metadata = migrations.service_metadata("registration")
    migrations.upgrade(engine, metadata, "registration", BEFORE)
    with engine.begin() as conn:
        conn.execute(insert(Table("appeals", MetaData(), autoload_with=conn)), rows(engine.dialect.name == "sqlite"))
    expected = [("f-1", "u-zhang", "OPEN", None), ("f-2", "u-nobody", "RESOLVED", "已补录")]

    migrations.upgrade(engine, metadata, "registration")
    tables = inspect(engine).get_table_names()
    assert "feedback" in tables and "appeals" not in tables
    assert read(engine, "feedback") == expected
    with Session(engine) as session:  # sealed before the rename, still readable through the repository
        repo = FeedbackRepository(session, CIPHER)
        first = repo.get("f-1")
        assert (first.name, first.id_number, first.verified) == ("张三", "11010519491231002X", True)
        assert [f.id for f in repo.list("OPEN")] == ["f-1"] and repo.count_open("u-nobody") == 0
    assert {i["name"] for i in inspect(engine).get_indexes("feedback")} == {
        "ix_feedback_account_id", "ix_feedback_state"}

    migrations.downgrade(engine, metadata, "registration", BEFORE)
    assert read(engine, "appeals") == expected
    assert "feedback" not in inspect(engine).get_table_names()
    migrations.upgrade(engine, metadata, "registration")
    assert read(engine, models.Feedback.__tablename__) == expected
    engine.dispose()
