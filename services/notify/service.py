"""The notify service: the thin nameko class. Contact details come by RPC before any unit of work
(an account's phone only once: identity's answer is kept, see models.AccountPhone; the applications'
contacts in one registration.contacts_of for the events handled together); everything else is in
services.notify.handlers.

Configuration (environment, all optional in development):
  SMS_CHANNEL file|http, SMS_HTTP_* (docs/sms-gateway.md); EMAIL_CHANNEL file|smtp, SMTP_*, EMAIL_SENDER
  NOTIFY_QUIET_HOURS "22:00-08:00" | off; NOTIFY_TEMPLATE_DIR, NOTIFY_SMS_SIGNATURE
  NOTIFY_MAX_ATTEMPTS (6), NOTIFY_RETRY_BASE_SECONDS (30), NOTIFY_RETRY_MAX_SECONDS (3600)
  NOTIFY_TIMER_SECONDS (5): how often due messages (retries, end of quiet hours) are looked for
  NOTIFY_SENDING_LEASE_SECONDS (120): a message left "sending" longer is taken back and retried
  NOTIFY_BATCH (200), NOTIFY_SEND_CONCURRENCY (10), RPC_TIMEOUT (15) for the contact look-ups
  NOTIFY_GROUP_LIMIT (200): concurrent workers' writes share one transaction, this many at most
  NOTIFY_MAX_WORKERS (60 on PostgreSQL, else MAX_WORKERS): events handled at once, see __main__.py
"""
import contextlib

import eventlet
from nameko.exceptions import MethodNotFound
from nameko.rpc import RpcProxy, rpc

from services.common.base import ServiceBase
from services.common.providers import Cipher, Database, Subscriptions
from services.common.subscriber import subscribe
from services.common.timer import timer
from services.contracts.errors import NotFound
from services.contracts.subscriptions import SUBSCRIPTIONS

from .handlers import Notifier
from .models import Base
from .providers import Channels, GroupCommits, NotifySettings, Templates
from .repository import repositories


class ContactUnavailable(RuntimeError):
    """A peer did not answer contact_of in time: the event is retried (then dead-lettered)."""


class NotifyService(ServiceBase):
    name = "notify"
    db = Database(Base.metadata, repositories=repositories)
    subscriptions = Subscriptions(SUBSCRIPTIONS)
    cipher = Cipher()
    identity = RpcProxy("identity")
    registration = RpcProxy("registration")
    channels = Channels()
    templates = Templates()
    settings = NotifySettings()
    groups = GroupCommits()

    def _notifier(self):
        size = self.settings.concurrency
        return Notifier(self.db, self.cipher, self.templates, self.channels, self.settings,
                        parallel_map=lambda fn, items: eventlet.GreenPool(size).imap(fn, items),
                        store_group=self.groups.store, record_group=self.groups.record,
                        check_group=self.groups.check)

    # --- RPC --------------------------------------------------------------------------------
    @rpc
    def send_code(self, phone, code, purpose, expires_at):
        return self._notifier().send_code(phone, code, purpose, expires_at)

    @rpc
    def list_notifications(self, state=None, limit=100):
        return self._notifier().list_notifications(state, limit)

    @rpc
    def resend(self, notification_id):
        return self._notifier().resend(notification_id)

    # --- events -----------------------------------------------------------------------------
    @subscribe("identity", "AccountRegistered")
    def on_account_registered(self, event):
        notifier = self._notifier()
        if notifier.already_handled(event, self.name):
            return
        phone = self._phone_of(event["data"]["account_id"])
        notifier.account_registered(event, self.name, phone)  # keeps the phone for later events

    @subscribe("registration", "ApplicationSubmitted")
    def on_application_submitted(self, event):
        notifier = self._notifier()
        data = event["data"]
        handled, phone = notifier.look(event, self.name, data["account_id"])
        if handled:
            return
        # the application's contact is asked every time (the form may have changed since the last
        # attempt); the phone only when it is not kept, both at once
        if phone is not None:
            contact, learned = self._contact_of(data["application_id"]), None
        else:  # identity on a thread of its own: the contacts are asked for others too, never killed
            asking = eventlet.spawn(self._phone_of_account, data["account_id"], None)
            try:
                contact = self._contact_of(data["application_id"])
            except BaseException:
                asking.kill()
                raise
            phone, learned = asking.wait()
        notifier.application_submitted(event, self.name, phone or contact.get("mobile"), contact.get("email"),
                                       learned)

    @subscribe("review", "ReviewCompleted")
    def on_review_completed(self, event):
        if event["data"]["decision"] != "rejected":
            return  # approved: RegistrationCompleted follows and says so
        notifier = self._notifier()
        if notifier.already_handled(event, self.name):
            return
        phone, contact, learned = self._applicant(notifier, event["data"]["application_id"])
        notifier.review_completed(event, self.name, phone, contact.get("email"), contact.get("resubmit_until"),
                                  learned)

    @subscribe("registration", "RegistrationCompleted")
    def on_registration_completed(self, event):
        notifier = self._notifier()
        if notifier.already_handled(event, self.name):
            return
        phone, contact, learned = self._applicant(notifier, event["data"]["application_id"])
        notifier.registration_completed(event, self.name, phone, contact.get("email"), learned)

    @subscribe("registration", "CertificateDispatched")
    def on_certificate_dispatched(self, event):
        notifier = self._notifier()
        if notifier.already_handled(event, self.name):
            return
        phone, contact, learned = self._applicant(notifier, event["data"]["application_id"])
        notifier.certificate_dispatched(event, self.name, phone, contact.get("email"), learned)

    # --- retries and quiet hours ------------------------------------------------------------
    @timer("NOTIFY_TIMER_SECONDS", 5.0)
    def process_due(self):
        return self._notifier().process_due()

    # --- contact details (RPC, outside any unit of work) ------------------------------------
    def _ask(self, proxy, method, *args):
        seconds = self.settings.rpc_timeout
        with eventlet.Timeout(seconds, ContactUnavailable(f"{proxy.service_name}.{method} 在 {seconds:g} 秒内没有回答")):
            return getattr(proxy, method)(*args)

    def _contact_of(self, application_id):
        """registration's contact of the application, asked in one `contacts_of` for the events
        waiting together (their workers share the call: one RPC instead of one each)."""
        contact = self.groups.contacts(self._contacts_of, application_id)
        if contact is None:  # as contact_of refused it: the event is retried, then dead-lettered
            raise NotFound(f"registration 没有申请 {application_id}", code="application_not_found")
        return contact

    def _contacts_of(self, application_ids):
        ids = list(dict.fromkeys(application_ids))
        try:
            found = self._ask(self.registration, "contacts_of", ids)
        except MethodNotFound:  # a registration older than contacts_of (a rolling upgrade)
            found = {}
            for application_id in ids:
                with contextlib.suppress(NotFound):
                    found[application_id] = self._ask(self.registration, "contact_of", application_id)
        return [found.get(application_id) for application_id in application_ids]

    def _phone_of(self, account_id):
        return self._ask(self.identity, "contact_of", account_id).get("phone")

    def _phone_of_account(self, account_id, kept):
        """(phone, {account id: phone} to keep or None): the kept phone, else identity's answer."""
        if kept is not None:
            return kept, None
        phone = self._phone_of(account_id)
        return phone, ({account_id: phone} if phone else None)

    def _applicant(self, notifier, application_id):
        """(SMS number, the application's contact, phone to keep): the account's phone, else the
        form's mobile."""
        contact = self._contact_of(application_id)
        phone, learned = None, None
        if contact.get("account_id"):
            kept = notifier.look(account_id=contact["account_id"])[1]
            phone, learned = self._phone_of_account(contact["account_id"], kept)
        return phone or contact.get("mobile"), contact, learned
