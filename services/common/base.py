"""What every service class offers: a health RPC and its metrics, inherited by the thin nameko classes."""
from nameko.rpc import rpc
from sqlalchemy import text

from . import metrics


class ServiceBase:
    name = None
    db = None  # a services.common.providers.Database, set by each service

    @rpc
    def health(self):
        with self.db.engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        return {"service": self.name, "status": "ok"}

    @rpc
    def metrics(self):
        return metrics.render()
