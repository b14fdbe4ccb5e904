"""The review service on nameko: the RPCs of docs/rpc.md and the ApplicationSubmitted subscription,
each translated to one handler call. Pillow and AES work runs in eventlet's thread pool."""
import logging

from eventlet import tpool
from nameko.extensions import DependencyProvider
from nameko.rpc import rpc

from services.common import metrics as platform_metrics
from services.common.base import ServiceBase
from services.common.providers import Cipher, Database
from services.common.retention import Retention
from services.common.subscriber import subscribe
from services.common.timer import timer
from services.contracts.errors import DomainError
from services.contracts.subscriptions import SUBSCRIPTIONS

from . import audit, handlers, workbench
from . import metrics as review_metrics
from .adapters.storage import MaterialStore
from .models import Base
from .settings import ReviewSettings

log = logging.getLogger("services.review")


class Settings(DependencyProvider):
    """ReviewSettings built once from the container's config."""

    def setup(self):
        self.settings = ReviewSettings.from_config(self.container.config)

    def get_dependency(self, worker_ctx):
        return self.settings


class ReviewService(ServiceBase):
    name = "review"
    db = Database(Base.metadata, topology=SUBSCRIPTIONS)
    cipher = Cipher()
    settings = Settings()

    def _offload(self, fn, *args, **kwargs):
        """CPU-heavy work off the event loop, so one upload does not stall other requests."""
        return tpool.execute(fn, *args, **kwargs)

    def _ctx(self):
        return handlers.Context(uow=self.db.uow, store=MaterialStore(self.settings.materials_dir, self.cipher),
                                settings=self.settings, offload=self._offload, consumer=self.name)

    # --- materials -------------------------------------------------------------------------
    @rpc(expected_exceptions=DomainError)
    def check_material(self, account_id, application_id, kind, content_b64):
        return handlers.check_material(self._ctx(), account_id, application_id, kind, content_b64)

    @rpc(expected_exceptions=DomainError)
    def material_info(self, material_id):
        return handlers.material_info(self._ctx(), material_id)

    @rpc(expected_exceptions=DomainError)
    def fetch_material(self, material_id, principal, variant="image"):
        return handlers.fetch_material(self._ctx(), material_id, principal, variant)

    @rpc(expected_exceptions=DomainError)
    def material_checks(self, principal, application_id):
        return handlers.material_checks(self._ctx(), principal, application_id)

    # --- tasks -----------------------------------------------------------------------------
    @subscribe("registration", "ApplicationSubmitted")
    def on_application_submitted(self, event):
        handlers.on_application_submitted(self._ctx(), event)

    @rpc(expected_exceptions=DomainError)
    def list_tasks(self, principal, filters=None):
        return handlers.list_tasks(self._ctx(), principal, filters)

    @rpc(expected_exceptions=DomainError)
    def task_material(self, principal, task_id, kind, variant="image"):
        return handlers.task_material(self._ctx(), principal, task_id, kind, variant)

    @rpc(expected_exceptions=DomainError)
    def get_task(self, principal, task_id):
        return handlers.get_task(self._ctx(), principal, task_id)

    @rpc(expected_exceptions=DomainError)
    def claim(self, principal, task_id):
        return handlers.claim(self._ctx(), principal, task_id)

    @rpc(expected_exceptions=DomainError)
    def release(self, principal, task_id):
        return handlers.release(self._ctx(), principal, task_id)

    @rpc(expected_exceptions=DomainError)
    def decide(self, principal, task_id, decision, opinion=None, material_issues=None, idempotency_key=None):
        return handlers.decide(self._ctx(), principal, task_id, decision, opinion, material_issues,
                               idempotency_key)

    # --- the workbench pages ----------------------------------------------------------------
    @rpc(expected_exceptions=DomainError)
    def queue_counts(self, principal, filters=None):
        return workbench.queue_counts(self._ctx(), principal, filters)

    @rpc(expected_exceptions=DomainError)
    def claim_next(self, principal, filters=None, skip=None):
        return workbench.claim_next(self._ctx(), principal, filters, skip)

    @rpc
    def common_reasons(self):
        return handlers.common_reasons()

    # --- figures ---------------------------------------------------------------------------
    @rpc(expected_exceptions=DomainError)
    def figures(self, principal):
        answer = handlers.figures(self._ctx(), principal)
        review_metrics.publish(answer)
        return answer

    # --- the auditor -----------------------------------------------------------------------
    @rpc(expected_exceptions=DomainError)
    def audit_entries(self, principal, filters=None):
        return audit.audit_entries(self._ctx(), principal, filters)

    @rpc
    def metrics(self):
        review_metrics.publish(handlers.figures_snapshot(self._ctx()))
        return platform_metrics.render()

    # --- retention -------------------------------------------------------------------------
    @timer("RETENTION_PURGE_SECONDS", Retention.purge_seconds)
    def purge_expired_materials(self):
        """The images of applications approved MATERIALS_RETENTION_DAYS ago (services/common/retention.py)."""
        days = self.settings.materials_retention_days
        try:
            answer = handlers.purge_materials(self._ctx(), days)
        except Exception as exc:  # noqa: BLE001 — the database is away: the next tick tries again
            log.warning("materials retention purge failed: %s", exc)
            return
        if answer["purged"]:
            log.info("retention: purged %s materials approved more than %s days ago", answer["purged"], days)
