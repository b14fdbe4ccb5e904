"""The identity service on nameko: RPCs of docs/rpc.md, each translated to one handler call.

A handler in one unit of work gets it (`_in_uow`); a use case with work between units of work
(a password hash, notify, the identity verifier) gets the factory, `self.db.uow`, with the
settings, the blind indexes and `tpool.execute` for the CPU-heavy part (`_handle`)."""
import eventlet
from eventlet import tpool
from nameko.extensions import DependencyProvider
from nameko.rpc import RpcProxy, rpc

from services.common import clock
from services.common.base import ServiceBase
from services.common.providers import Cipher, Database, Subscriptions
from services.contracts.errors import (
    Conflict,
    DomainError,
    Forbidden,
    NotFound,
    TooManyRequests,
    Unauthenticated,
    ValidationFailed,
)
from services.contracts.subscriptions import SUBSCRIPTIONS

from . import captchas, handlers, session_batch, session_watch, staff, staff_signin
from .clients import BlindIndexes
from .models import Base
from .repository import repositories
from .settings import IdentitySettings

# The error classes every caller can rebuild (services.contracts.errors is imported everywhere).
_PORTABLE = (ValidationFailed, NotFound, Conflict, Forbidden, Unauthenticated, TooManyRequests, DomainError)


def portable_error(exc):
    """A DomainError as the nearest services.contracts.errors class, same code, message, details, status.

    nameko rebuilds a remote exception as itself only when the caller imported its class; the
    gateway does not import this service's (AccountLocked, VerifierUnavailable, SmsUnavailable…),
    and would see a RemoteError (503) instead of, say, a 429 with the lock's end.
    """
    if type(exc) in _PORTABLE:
        return exc
    base = next(cls for cls in type(exc).__mro__ if cls in _PORTABLE)
    wire = base.__new__(base)
    DomainError.__init__(wire, exc.message, exc.code, exc.details, exc.http_status)
    return wire


class Settings(DependencyProvider):
    """IdentitySettings (hasher, verifier, policies) built once from the container's config."""

    def setup(self):
        self.settings = IdentitySettings.from_config(self.container.config)

    def get_dependency(self, worker_ctx):
        return self.settings


class IdentityService(ServiceBase):
    name = "identity"
    db = Database(Base.metadata, repositories=repositories)
    subscriptions = Subscriptions(SUBSCRIPTIONS)
    cipher = Cipher()
    notify = RpcProxy("notify")
    settings = Settings()

    def _send_sms(self, phone, code, purpose, expires_at):
        with eventlet.Timeout(self.settings.notify_timeout, TimeoutError("notify.send_code did not answer")):
            return self.notify.send_code(phone, code, purpose, expires_at)

    def _indexes(self):
        return BlindIndexes(self.cipher)

    def _handle(self, handler, *args, **kwargs):
        """A handler over the unit-of-work factory (several units of work), errors portable."""
        try:
            return handler(self.db.uow, self.settings, *args, **kwargs)
        except DomainError as exc:
            raise portable_error(exc) from None

    def _in_uow(self, handler, *args):
        """A handler in the unit-of-work form (docs/architecture.md): one unit of work, errors portable."""
        try:
            with self.db.uow() as uow:
                return handler(uow, *args)
        except DomainError as exc:
            raise portable_error(exc) from None

    @rpc(expected_exceptions=DomainError)
    def send_code(self, phone, purpose, client_ip=None, device=None, captcha=None):
        return self._handle(handlers.send_code, self._indexes(), self._send_sms, phone, purpose, client_ip, device,
                            captcha, offload=tpool.execute)

    @rpc(expected_exceptions=DomainError)
    def new_captcha(self, phone, client_ip=None, device=None):
        return self._handle(captchas.new_captcha, self._indexes(), phone, client_ip, device, offload=tpool.execute)

    @rpc(expected_exceptions=DomainError)
    def register(self, phone, code, password, client_ip=None):
        return self._handle(handlers.register, self._indexes(), phone, code, password, client_ip,
                            offload=tpool.execute)

    @rpc(expected_exceptions=DomainError)
    def login(self, phone, password=None, code=None, client_ip=None):
        return self._handle(handlers.login, self._indexes(), phone, password=password, code=code,
                            client_ip=client_ip, offload=tpool.execute)

    @rpc(expected_exceptions=DomainError)
    def authenticate(self, token):
        return self._in_uow(handlers.authenticate, token, self.settings.session_policy,
                            self.settings.touch_interval, clock.now())

    @rpc(expected_exceptions=DomainError)
    def authenticate_many(self, tokens):
        return self._in_uow(session_batch.authenticate_many, tokens, self.settings.session_policy,
                            self.settings.touch_interval, clock.now())

    @rpc(expected_exceptions=DomainError)
    def principal_changes(self, since, seen):
        return self._in_uow(session_watch.principal_changes, since, seen, self.settings.session_policy,
                            self.settings.touch_interval, clock.now())

    @rpc(expected_exceptions=DomainError)
    def logout(self, token):
        return self._in_uow(handlers.logout, token, clock.now())

    @rpc(expected_exceptions=DomainError)
    def change_password(self, token, old_password, new_password):
        return self._handle(handlers.change_password, token, old_password, new_password, offload=tpool.execute)

    @rpc(expected_exceptions=DomainError)
    def reset_password(self, phone, code, new_password):
        return self._handle(handlers.reset_password, self._indexes(), phone, code, new_password,
                            offload=tpool.execute)

    @rpc(expected_exceptions=DomainError)
    def verify_identity(self, account_id, name, id_type, id_number):
        return self._handle(handlers.verify_identity, account_id, name, id_type, id_number)

    @rpc(expected_exceptions=DomainError)
    def identity_of(self, account_id):
        return self._in_uow(handlers.identity_of, account_id)

    @rpc(expected_exceptions=DomainError)
    def contact_of(self, account_id):
        return self._in_uow(handlers.contact_of, account_id)

    @rpc(expected_exceptions=DomainError)
    def create_staff(self, phone, role, password, principal=None):
        """principal: who asks (the console); None only for operators' tools."""
        return self._handle(staff.create_staff, phone, role, password, principal, offload=tpool.execute)

    @rpc(expected_exceptions=DomainError)
    def list_staff(self, principal):
        return self._in_uow(staff.list_staff, principal, self.settings.sms_fallback_roles)

    @rpc(expected_exceptions=DomainError)
    def complete_login(self, pending_token, code):
        return self._handle(staff_signin.complete_login, pending_token, code)

    @rpc(expected_exceptions=DomainError)
    def begin_enrolment(self, pending_token):
        return self._handle(staff_signin.begin_enrolment, pending_token)

    @rpc(expected_exceptions=DomainError)
    def confirm_enrolment(self, pending_token, code):
        return self._handle(staff_signin.confirm_enrolment, pending_token, code)

    @rpc(expected_exceptions=DomainError)
    def reset_second_factor(self, principal, account_id):
        return self._in_uow(staff_signin.reset_second_factor, principal, account_id, clock.now())

    @rpc(expected_exceptions=DomainError)
    def security_events(self, subject_id):
        return self._in_uow(staff_signin.security_events, subject_id)

    @rpc(expected_exceptions=DomainError)
    def audit_entries(self, principal, filters=None):
        return self._in_uow(staff_signin.audit_entries, principal, filters)
