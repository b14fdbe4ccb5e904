"""Each service's Alembic migrations build exactly the schema its models describe (SQLite, and
PostgreSQL with TEST_DATABASE=postgresql). Fix a failure with
`python -m services.common.migrations revision <service> "what changed"`."""
import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from services.common import migrations
from services.common.db import make_engine

pytestmark = pytest.mark.integration
SERVICES = ["identity", "registration", "review", "notify"]


@pytest.mark.parametrize("service", SERVICES)
def test_migrations_match_the_models(service, database_url):
    metadata = migrations.service_metadata(service)
    assert migrations.has_migrations(service), f"services/{service}/migrations/ has no migration"
    engine = make_engine(database_url(service))
    migrations.upgrade(engine, metadata, service)
    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn, opts={"compare_type": False}), metadata)
    engine.dispose()
    assert diff == [], f"{service}: models and migrations differ: {diff}"
