"""Alembic environment shared by every service: the caller hands over the connection and metadata
(services.common.migrations), so there is no alembic.ini and no URL in this file."""
from alembic import context

config = context.config
connection = config.attributes["connection"]
metadata = config.attributes["metadata"]

context.configure(connection=connection, target_metadata=metadata, compare_type=True,
                  render_as_batch=connection.dialect.name == "sqlite")
with context.begin_transaction():
    context.run_migrations()
