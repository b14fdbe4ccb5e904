"""The registration service: campaigns, the exam roster, applications from draft to registration
number, mailing, feedback, reports. Thin: each entrypoint asks peers first (outside any unit of
work), then opens one unit of work and delegates to `handlers`. The contract is docs/rpc.md."""
import logging

from nameko.rpc import RpcProxy, rpc

from services.common import clock
from services.common.base import ServiceBase
from services.common.providers import Config, Database, Subscriptions
from services.common.subscriber import subscribe
from services.contracts.subscriptions import SUBSCRIPTIONS

from . import console, handlers
from .adapters import peers
from .domain import numbers
from .models import Base
from .repository import repositories

log = logging.getLogger(__name__)


class RegistrationService(ServiceBase):
    name = "registration"
    db = Database(Base.metadata, repositories=repositories)
    subscriptions = Subscriptions(SUBSCRIPTIONS)
    config = Config()
    identity = RpcProxy("identity")
    review = RpcProxy("review")

    # --- settings ---------------------------------------------------------------------------
    def _rpc_timeout(self):
        return float(self.config.get("RPC_TIMEOUT", peers.DEFAULT_TIMEOUT))

    def _number_format(self):
        return numbers.check_format(self.config.get("REGISTRATION_NUMBER_FORMAT", numbers.DEFAULT_FORMAT))

    def _stuck_days(self):
        return float(self.config.get("WATCHDOG_STUCK_DAYS", 10))

    # --- public ------------------------------------------------------------------------------
    @rpc
    def code_tables(self):
        return handlers.code_tables()

    @rpc
    def list_campaigns(self):
        with self.db.uow() as uow:
            return handlers.list_campaigns(uow, clock.now())

    # --- the applicant ----------------------------------------------------------------------
    @rpc
    def open_application(self, account_id, campaign_id):
        identity = peers.identity_of(self.identity, account_id, self._rpc_timeout())
        with self.db.uow() as uow:
            return handlers.open_application(uow, identity, account_id, campaign_id, clock.now())

    @rpc
    def list_applications(self, account_id):
        with self.db.uow() as uow:
            return handlers.list_applications(uow, account_id, clock.now())

    @rpc
    def form_spec(self):
        return handlers.form_spec()

    @rpc
    def get_application(self, principal, application_id):
        with self.db.uow() as uow:
            return handlers.get_application(uow, principal, application_id, clock.now())

    @rpc
    def save_draft(self, account_id, application_id, changes):
        with self.db.uow() as uow:
            return handlers.save_draft(uow, account_id, application_id, changes, clock.now())

    @rpc
    def attach_material(self, account_id, application_id, kind, material_id):
        handlers.check_material_kind(kind)
        material = peers.material_info(self.review, material_id, self._rpc_timeout())
        with self.db.uow() as uow:
            return handlers.attach_material(uow, account_id, application_id, kind, material,
                                            clock.now())

    @rpc
    def submit(self, account_id, application_id, idempotency_key=None):
        with self.db.uow() as uow:
            return handlers.submit(uow, account_id, application_id, idempotency_key, clock.now())

    @rpc
    def history(self, principal, application_id):
        with self.db.uow() as uow:
            return handlers.history(uow, principal, application_id, clock.now())

    @rpc
    def file_feedback(self, account_id, message):
        identity = peers.identity_of(self.identity, account_id, self._rpc_timeout())
        with self.db.uow() as uow:
            return handlers.file_feedback(uow, account_id, message, identity, clock.now())

    # --- services -----------------------------------------------------------------------------
    @rpc
    def contact_of(self, application_id):
        with self.db.uow() as uow:
            return handlers.contact_of(uow, application_id)

    @rpc
    def contacts_of(self, application_ids):
        with self.db.uow() as uow:
            return handlers.contacts_of(uow, application_ids)

    @subscribe("review", "ReviewCompleted")
    def on_review_completed(self, event):
        with self.db.uow() as uow:
            if not uow.first_time(event, self.name):
                return
            outcome = handlers.on_review_completed(uow, event, self._number_format(), clock.now())
        log.info("ReviewCompleted %s for %s: %s", event["id"], event["data"]["application_id"], outcome)

    # --- admin --------------------------------------------------------------------------------
    @rpc
    def create_campaign(self, principal, data):
        with self.db.uow() as uow:
            return handlers.create_campaign(uow, principal, data, clock.now())

    @rpc
    def import_roster(self, principal, filename, content_b64):
        handlers.require_admin(principal)
        content = handlers.decode_upload(content_b64, "名单文件")
        with self.db.uow() as uow:
            return handlers.import_roster(uow, principal, filename, content, clock.now())

    @rpc
    def record_dispatch(self, principal, application_id, carrier, tracking_number):
        with self.db.uow() as uow:
            return handlers.record_dispatch(uow, principal, application_id, carrier,
                                            tracking_number, clock.now())

    @rpc
    def import_dispatches(self, principal, filename, content_b64):
        handlers.require_admin(principal)
        content = handlers.decode_upload(content_b64, "寄送信息文件")
        return handlers.import_dispatches(self.db.uow, principal, filename, content, clock.now())

    @rpc
    def update_campaign(self, principal, campaign_id, changes):
        with self.db.uow() as uow:
            return console.update_campaign(uow, principal, campaign_id, changes, clock.now())

    @rpc
    def awaiting_dispatch(self, principal, limit=50):
        with self.db.uow() as uow:
            return console.awaiting_dispatch(uow, principal, limit)

    @rpc
    def report(self, principal, campaign_id=None):
        with self.db.uow() as uow:
            return console.report(uow, principal, campaign_id)

    @rpc
    def audit_entries(self, principal, filters=None):
        with self.db.uow() as uow:
            return console.audit_entries(uow, principal, filters)

    @rpc
    def start_export(self, principal, fmt="xlsx", campaign_id=None):
        with self.db.uow() as uow:
            return handlers.start_export(uow, principal, fmt, clock.now(), campaign_id)

    @rpc
    def export_page(self, principal, campaign_id=None, after=None, limit=handlers.EXPORT_PAGE):
        with self.db.uow() as uow:
            return handlers.export_page(uow, principal, campaign_id, after, limit)

    @rpc
    def export_approved(self, principal, fmt="xlsx", campaign_id=None):
        with self.db.uow() as uow:
            return handlers.export_approved(uow, principal, fmt, clock.now(), campaign_id)

    @rpc
    def list_feedback(self, principal, state=None):
        with self.db.uow() as uow:
            return handlers.list_feedback(uow, principal, state)

    @rpc
    def resolve_feedback(self, principal, feedback_id, note):
        with self.db.uow() as uow:
            return handlers.resolve_feedback(uow, principal, feedback_id, note, clock.now())

    @rpc
    def seed_demo(self):
        with self.db.uow() as uow:
            return handlers.seed_demo(uow, clock.now())

    # --- operations -------------------------------------------------------------------------------
    @rpc
    def stuck_applications(self, days=None):
        with self.db.uow() as uow:
            return handlers.stuck_applications(uow, self._stuck_days() if days is None else days, clock.now())

    @rpc
    def metrics(self):
        """Prometheus text; the watchdog gauge is refreshed on every scrape."""
        try:
            self.stuck_applications()
        except Exception:  # noqa: BLE001 — a metrics scrape must answer even when the database does not
            log.warning("watchdog could not count stuck applications", exc_info=True)
        return super().metrics()
