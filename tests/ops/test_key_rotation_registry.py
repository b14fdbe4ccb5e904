"""rotate-keys and the backup's key ids cover every sealed column: a new `*_enc` column in a service's
models fails here until services/ops/sealed.py lists it with the context its service binds."""
import pathlib

from services.common import migrations, outbox
from services.ops.reindex import BLIND_INDEXES, EPHEMERAL_INDEXES
from services.ops.sealed import OUTBOX_CONTEXT, SEALED_COLUMNS

ROOT = pathlib.Path(__file__).resolve().parents[2]
SERVICES = ("identity", "registration", "review", "notify")


def test_every_enc_column_of_every_service_is_listed():
    listed = {(s.service, s.table, s.column) for s in SEALED_COLUMNS}
    for service in SERVICES:
        for table in migrations.service_metadata(service).sorted_tables:
            for column in table.columns:
                if column.name.endswith("_enc"):
                    assert (service, table.name, column.name) in listed, f"{service}.{table.name}.{column.name}"


def test_every_listed_column_exists_and_is_keyed_by_its_primary_key():
    for s in SEALED_COLUMNS:
        table = migrations.service_metadata(s.service).tables[s.table]
        assert s.column in table.columns, s.name
        assert [c.name for c in table.primary_key.columns] == [s.key], s.name


def test_every_outbox_is_listed_with_the_outbox_context():
    assert {s.service for s in SEALED_COLUMNS if s.table == "outbox"} == set(SERVICES)
    assert getattr(outbox, "SEAL_CONTEXT", OUTBOX_CONTEXT) == OUTBOX_CONTEXT


def test_each_context_is_one_its_service_uses():
    """The drill (test_key_rotation_drill.py) proves it on values the services wrote; this says which
    column is wrong without starting them."""
    for s in (s for s in SEALED_COLUMNS if s.table != "outbox"):
        source = "".join(p.read_text() for p in (ROOT / "services" / s.service).rglob("*.py"))
        assert f'"{s.context}"' in source, s.name


def test_every_blind_index_is_recomputed_by_reindex_or_known_to_be_ephemeral():
    recomputed = {(i.service, i.table, i.column) for i in BLIND_INDEXES}
    for service in SERVICES:
        for table in migrations.service_metadata(service).sorted_tables:
            for column in table.columns:
                if column.name.endswith("_index"):
                    where = (service, table.name, column.name)
                    assert where in recomputed | EPHEMERAL_INDEXES, where
