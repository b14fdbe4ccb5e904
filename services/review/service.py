"""The review service on nameko: the RPCs of docs/rpc.md and the ApplicationSubmitted subscription.
Thin: each entrypoint opens one unit of work (or hands the factory to a handler that needs more
than one) and delegates to `handlers` (tasks), `uploads` (materials) or `workbench`. Pillow and AES
work runs in eventlet's thread pool."""
import logging
import time

from eventlet import tpool
from nameko.extensions import DependencyProvider
from nameko.rpc import rpc

from services.common import clock
from services.common import metrics as platform_metrics
from services.common.base import ServiceBase
from services.common.providers import Cipher, Database, Subscriptions
from services.common.retention import Retention
from services.common.subscriber import subscribe
from services.common.timer import timer
from services.contracts.errors import DomainError
from services.contracts.subscriptions import SUBSCRIPTIONS

from . import audit, handlers, uploads, workbench
from . import metrics as review_metrics
from .adapters.storage import MaterialStore
from .domain.figures import MEDIAN_REFRESH_SECONDS, Recent
from .models import Base
from .repository import repositories
from .settings import ReviewSettings

log = logging.getLogger("services.review")


class Settings(DependencyProvider):
    """ReviewSettings built once from the container's config."""

    def setup(self):
        self.settings = ReviewSettings.from_config(self.container.config)

    def get_dependency(self, worker_ctx):
        return self.settings


class RecentFigures(DependencyProvider):
    """The figures this process keeps a while (domain.figures.Recent): one per service container."""

    def setup(self):
        self.recent = Recent(MEDIAN_REFRESH_SECONDS)

    def get_dependency(self, worker_ctx):
        return self.recent


class ReviewService(ServiceBase):
    name = "review"
    db = Database(Base.metadata, repositories=repositories)
    subscriptions = Subscriptions(SUBSCRIPTIONS)
    cipher = Cipher()
    settings = Settings()
    recent = RecentFigures()

    def _offload(self, fn, *args, **kwargs):
        """CPU-heavy work off the event loop, so one upload does not stall other requests."""
        return tpool.execute(fn, *args, **kwargs)

    def _store(self):
        return MaterialStore(self.settings.materials_dir, self.cipher)

    # --- materials -------------------------------------------------------------------------
    @rpc(expected_exceptions=DomainError)
    def check_material(self, account_id, application_id, kind, content_b64):
        return uploads.check_material(self.db.uow, self._store(), account_id, application_id, kind, content_b64,
                                      self.settings, clock.now(), offload=self._offload)

    @rpc(expected_exceptions=DomainError)
    def material_info(self, material_id):
        with self.db.uow() as uow:
            return uploads.material_info(uow, material_id)

    @rpc(expected_exceptions=DomainError)
    def fetch_material(self, material_id, principal, variant="image"):
        return uploads.fetch_material(self.db.uow, self._store(), material_id, principal, variant, clock.now(),
                                      offload=self._offload)

    @rpc(expected_exceptions=DomainError)
    def material_checks(self, principal, application_id):
        with self.db.uow() as uow:
            return uploads.material_checks(uow, principal, application_id, clock.now())

    # --- tasks -----------------------------------------------------------------------------
    @subscribe("registration", "ApplicationSubmitted")
    def on_application_submitted(self, event):
        with self.db.uow() as uow:
            if not uow.first_time(event, self.name):
                return
            handlers.on_application_submitted(uow, event, clock.now())

    @rpc(expected_exceptions=DomainError)
    def list_tasks(self, principal, filters=None):
        with self.db.uow() as uow:
            return handlers.list_tasks(uow, principal, filters, self.settings.list_limit, clock.now())

    @rpc(expected_exceptions=DomainError)
    def task_material(self, principal, task_id, kind, variant="image"):
        return uploads.task_material(self.db.uow, self._store(), principal, task_id, kind, variant, clock.now(),
                                     offload=self._offload)

    @rpc(expected_exceptions=DomainError)
    def get_task(self, principal, task_id):
        with self.db.uow() as uow:
            return handlers.get_task(uow, principal, task_id, self.settings.claim_lease_seconds, clock.now())

    @rpc(expected_exceptions=DomainError)
    def claim(self, principal, task_id):
        with self.db.uow() as uow:
            return handlers.claim(uow, principal, task_id, self.settings.claim_lease_seconds, clock.now())

    @rpc(expected_exceptions=DomainError)
    def release(self, principal, task_id):
        with self.db.uow() as uow:
            return handlers.release(uow, principal, task_id, clock.now())

    @rpc(expected_exceptions=DomainError)
    def decide(self, principal, task_id, decision, opinion=None, material_issues=None, idempotency_key=None):
        with self.db.uow() as uow:
            return handlers.decide(uow, principal, task_id, decision, opinion, material_issues, idempotency_key,
                                   clock.now())

    # --- the workbench pages ----------------------------------------------------------------
    @rpc(expected_exceptions=DomainError)
    def queue_page(self, principal, filters=None):
        with self.db.uow() as uow:
            answer = workbench.queue_page(uow, principal, filters, self.settings.list_limit,
                                          self.settings.figures_window_days, clock.now(), self.recent,
                                          time.monotonic())
        review_metrics.publish(answer["figures"])
        return answer

    @rpc(expected_exceptions=DomainError)
    def queue_counts(self, principal, filters=None):
        with self.db.uow() as uow:
            return workbench.queue_counts(uow, principal, filters, self.settings.list_limit, clock.now())

    @rpc(expected_exceptions=DomainError)
    def claim_next(self, principal, filters=None, skip=None):
        with self.db.uow() as uow:
            return workbench.claim_next(uow, principal, filters, skip, self.settings.list_limit,
                                        self.settings.claim_lease_seconds, clock.now())

    @rpc
    def common_reasons(self):
        return handlers.common_reasons()

    # --- figures ---------------------------------------------------------------------------
    @rpc(expected_exceptions=DomainError)
    def figures(self, principal):
        with self.db.uow() as uow:
            answer = handlers.figures(uow, principal, self.settings.figures_window_days, clock.now(), self.recent,
                                      time.monotonic())
        review_metrics.publish(answer)
        return answer

    # --- the auditor -----------------------------------------------------------------------
    @rpc(expected_exceptions=DomainError)
    def audit_entries(self, principal, filters=None):
        with self.db.uow() as uow:
            return audit.audit_entries(uow, principal, filters)

    @rpc
    def metrics(self):
        with self.db.uow() as uow:
            figures = handlers.figures_snapshot(uow, self.settings.figures_window_days, clock.now(), self.recent,
                                                time.monotonic())
        review_metrics.publish(figures)
        return platform_metrics.render()

    # --- retention -------------------------------------------------------------------------
    @timer("RETENTION_PURGE_SECONDS", Retention.purge_seconds)
    def purge_expired_materials(self):
        """The images of applications approved MATERIALS_RETENTION_DAYS ago (services/common/retention.py)."""
        days = self.settings.materials_retention_days
        try:
            answer = uploads.purge_materials(self.db.uow, self._store(), days, clock.now())
        except Exception as exc:  # noqa: BLE001 — the database is away: the next tick tries again
            log.warning("materials retention purge failed: %s", exc)
            return
        if answer["purged"]:
            log.info("retention: purged %s materials approved more than %s days ago", answer["purged"], days)
