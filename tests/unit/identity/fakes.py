"""In-memory twins of services/identity/repository.py, behind the same methods, for the unit tests
of the identity service layer. They hand out copies, as rows loaded afresh would be; a unique key
already taken raises `Taken` as the real ones do on flush. `world()` gives a fake unit of work
with every repository, the settings (a cheap password hash) and the blind indexes of a real key."""
import base64
import copy
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta, timezone

from services.common import clock
from services.common.crypto import DataCipher
from services.contracts.roles import APPLICANT
from services.identity import handlers
from services.identity.adapters.verifier import FormatOnlyVerifier
from services.identity.clients import BlindIndexes
from services.identity.domain.passwords import PasswordHasher
from services.identity.domain.records import AccountRecord, IdentityRecord, SessionRecord, StaffMember
from services.identity.repository import Taken
from services.identity.settings import IdentitySettings
from tests.support.fakes import FakeAuditLog, FakeUnitOfWork

NOW = datetime(2020, 7, 1, 2, 0, tzinfo=timezone.utc)  # 10:00 in Beijing


def later(seconds):
    """Move the frozen clock on."""
    clock.set_now(clock.now() + timedelta(seconds=seconds))


CIPHER = DataCipher("k1:" + base64.b64encode(b"1" * 32).decode(), "unit-test-blind-index-key")


def fake_uow():
    """A FakeUnitOfWork with every identity repository, empty."""
    changes = FakePrincipalChanges()
    accounts, identities = FakeAccounts(), FakeIdentities(changes)
    second_factors = FakeSecondFactors()
    sessions = FakeSessions(accounts, identities, changes)
    accounts.sessions, accounts.second_factors = sessions, second_factors
    return FakeUnitOfWork(accounts=accounts, sessions=sessions, second_factors=second_factors,
                          identities=identities, principal_changes=changes, verification_attempts=FakeVerificationAttempts(),
                          sms_codes=FakeSmsCodes(), captchas=FakeCaptchas(), login_failures=FakeLoginFailures(),
                          audit=FakeAuditLog())


def cheap_settings(**overrides):
    """IdentitySettings as the service builds them, with a password hash cheap enough for unit tests."""
    settings = IdentitySettings(code_key="unit-test-code-key", verifier=FormatOnlyVerifier(),
                                hasher=PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1))
    return replace(settings, **overrides)


@dataclass
class World:
    """What a handler is given in the service: the unit-of-work factory, settings, blind indexes,
    notify's send_code (recorded in `sent`: (phone, code, purpose, expires_at))."""
    uow: FakeUnitOfWork = field(default_factory=fake_uow)
    settings: IdentitySettings = field(default_factory=cheap_settings)
    indexes: BlindIndexes = field(default_factory=lambda: BlindIndexes(CIPHER))
    sent: list = field(default_factory=list)

    def send_sms(self, *args):
        self.sent.append(args)

    def last_code(self):
        return self.sent[-1][1]

    def send_code(self, phone, purpose, client_ip=None, device=None, captcha=None):
        return handlers.send_code(self.uow, self.settings, self.indexes, self.send_sms, phone, purpose, client_ip,
                                  device, captcha)

    def register(self, phone, password="Passw0rd!x"):
        """An applicant registered by the book (code, then register): the answer, with its token."""
        self.send_code(phone, "register")
        return handlers.register(self.uow, self.settings, self.indexes, phone, self.last_code(), password)

    def login(self, phone, password=None, code=None):
        return handlers.login(self.uow, self.settings, self.indexes, phone, password=password, code=code)


class FakePrincipalChanges:
    def __init__(self):
        self.noted = []  # (change id, account id, at)

    def note(self, account_id, now):
        self.noted.append((len(self.noted) + 1, str(account_id), now))

    def since(self, moment):
        return [(change_id, account_id) for change_id, account_id, at in self.noted if at >= moment]

    def accounts(self):
        return [account_id for _, account_id, _ in self.noted]


class FakeIdentities:
    def __init__(self, changes=None):
        self.stored = {}
        self.changes = changes or FakePrincipalChanges()

    def get(self, account_id):
        return copy.deepcopy(self.stored.get(str(account_id)))

    def owner(self, id_number):
        return next((i.account_id for i in self.stored.values() if i.id_number == id_number), None)

    def add(self, identity):
        if identity.account_id in self.stored or any(i.id_number == identity.id_number
                                                     for i in self.stored.values()):  # primary key, unique index
            raise Taken("该证件号码已完成实名认证", code="id_number_taken")
        self.stored[identity.account_id] = copy.deepcopy(identity)
        self.changes.note(identity.account_id, identity.verified_at)

    def put(self, account_id, id_type, name, id_number, level, at):
        """Test set-up: an identity as if verified earlier."""
        self.stored[account_id] = IdentityRecord(account_id=account_id, id_type=id_type, name=name,
                                                 id_number=id_number, level=level, verified_at=at)


class FakeAccounts:
    def __init__(self):
        self.stored = {}
        self.sessions = self.second_factors = None  # for staff(): last activity, TOTP

    def get(self, account_id, lock=False):
        return copy.deepcopy(self.stored.get(str(account_id)))

    def by_phone(self, phone, lock=False):
        return copy.deepcopy(next((a for a in self.stored.values() if a.phone == phone), None))

    def add(self, account):
        if any(a.phone == account.phone for a in self.stored.values()):  # the unique phone index
            raise Taken("该手机号已注册", code="phone_registered")
        self.stored[account.id] = copy.deepcopy(account)

    def set_password_hash(self, account_id, password_hash, changed_at=None):
        account = self.stored[account_id]
        account.password_hash = password_hash
        if changed_at is not None:
            account.password_changed_at = changed_at

    def staff(self):
        found = []
        for a in sorted(self.stored.values(), key=lambda a: (a.created_at, a.id)):
            roles = [r for r in a.roles if r != APPLICANT]
            if roles:
                seen = [s["last_seen_at"] for s in self.sessions.stored.values() if s["account_id"] == a.id]
                found.append(StaffMember(account_id=a.id, roles=roles, phone=a.phone, created_at=a.created_at,
                                         last_seen_at=max(seen, default=None),
                                         totp_enrolled=self.second_factors.enrolled(a.id)))
        return found

    def put(self, account_id, phone, roles, at, password_hash=None):
        """Test set-up: an account as if created earlier."""
        self.stored[account_id] = AccountRecord(id=account_id, phone=phone, roles=list(roles), created_at=at,
                                                password_changed_at=at, password_hash=password_hash)


class FakeSessions:
    def __init__(self, accounts, identities=None, changes=None):
        self.stored = {}  # token hash → {"id", "account_id", "created_at", "last_seen_at", "revoked_at"}
        self._changes = changes or FakePrincipalChanges()
        self.identities = {}  # account id → (level, name, id_number): set-up shortcut, else `identities`
        self._accounts, self._identities = accounts, identities

    def open(self, account_id, token_hash, now):
        assert token_hash not in self.stored, "uq token_hash"
        self.stored[token_hash] = {"id": len(self.stored) + 1, "account_id": account_id, "created_at": now,
                                   "last_seen_at": now, "revoked_at": None}

    def by_token(self, token_hash):
        found = self.stored.get(token_hash)
        if found is None:
            return None
        account = self._accounts.stored[found["account_id"]]
        level, name, id_number = self.identities.get(account.id, (None, None, None))
        identity = self._identities.stored.get(account.id) if self._identities else None
        if identity is not None:
            level, name, id_number = identity.level, identity.name, identity.id_number
        return SessionRecord(roles=list(account.roles), phone=account.phone, level=level, name=name,
                             id_number=id_number, **found)

    def touch(self, session_id, now):
        for found in self.stored.values():
            if found["id"] == session_id:
                found["last_seen_at"] = now

    def touch_seen(self, token_hashes, now, policy, touch_interval):
        for token_hash in token_hashes:
            found = self.stored.get(token_hash)
            if (found and found["revoked_at"] is None and found["last_seen_at"] <= now - touch_interval
                    and found["last_seen_at"] > now - policy.idle and found["created_at"] > now - policy.absolute):
                found["last_seen_at"] = now

    def revoke(self, token_hash, now):
        if token_hash in self.stored and self.stored[token_hash]["revoked_at"] is None:
            self.stored[token_hash]["revoked_at"] = now
            self._changes.note(self.stored[token_hash]["account_id"], now)

    def revoke_all(self, account_id, now):
        for found in self.stored.values():
            if found["account_id"] == account_id and found["revoked_at"] is None:
                found["revoked_at"] = now
        self._changes.note(account_id, now)

    def live(self, account_id):
        return [s for s in self.stored.values() if s["account_id"] == account_id and s["revoked_at"] is None]


class FakeSecondFactors:
    def __init__(self):
        self.stored = {}  # account id → TotpFactor
        self.recovery_codes = {}  # account id → {code hash: used_at}

    def enrolled(self, account_id):
        factor = self.stored.get(account_id)
        return factor is not None and factor.confirmed_at is not None

    def get(self, account_id, lock=False):
        return copy.deepcopy(self.stored.get(account_id))

    def add(self, factor):
        assert factor.account_id not in self.stored, "staff_totp primary key"
        self.stored[factor.account_id] = copy.deepcopy(factor)

    def save(self, factor):
        self.stored[factor.account_id] = copy.deepcopy(factor)

    def replace_recovery_codes(self, account_id, code_hashes):
        self.recovery_codes[account_id] = {h: None for h in code_hashes}

    def use_recovery_code(self, account_id, code_hash, now):
        codes = self.recovery_codes.get(account_id, {})
        if code_hash not in codes or codes[code_hash] is not None:
            return False
        codes[code_hash] = now
        return True

    def remove(self, account_id):
        self.stored.pop(account_id, None)
        self.recovery_codes.pop(account_id, None)


class FakeVerificationAttempts:
    def __init__(self):
        self.stored = {}  # id → {"account_id", "attempted_at", "outcome"}

    def counted_since(self, account_id, since):
        return [a["attempted_at"] for a in self.stored.values() if a["account_id"] == account_id
                and a["attempted_at"] > since and a["outcome"] != "unavailable"]

    def add(self, account_id, at, outcome):
        attempt_id = len(self.stored) + 1
        self.stored[attempt_id] = {"account_id": account_id, "attempted_at": at, "outcome": outcome}
        return attempt_id

    def set_outcome(self, attempt_id, outcome):
        self.stored[attempt_id]["outcome"] = outcome

    def outcomes(self):
        return [a["outcome"] for a in self.stored.values()]


class FakeSmsCodes:
    def __init__(self):
        self.stored = []  # SmsCode records, oldest first, ids 1, 2, …

    def since(self, phone_index, since):
        return [copy.deepcopy(c) for c in self.stored if c.phone_index == phone_index and c.created_at >= since]

    def count_from_device(self, device_index, since):
        return 0 if device_index is None else sum(
            c.device_index == device_index and c.created_at >= since for c in self.stored)

    def count_from_address(self, address_index, since):
        return 0 if address_index is None else sum(
            c.address_index == address_index and c.created_at >= since for c in self.stored)

    def newest(self, phone_index, purpose=None, issued_after=None, lock=False):
        found = [c for c in self.stored if c.phone_index == phone_index and purpose in (None, c.purpose)
                 and (issued_after is None or c.created_at > issued_after)]
        return copy.deepcopy(max(found, key=lambda c: (c.created_at, c.id))) if found else None

    def add(self, sms_code):
        self.stored.append(replace(sms_code, id=len(self.stored) + 1))

    def save(self, sms_code):
        stored = self.stored[sms_code.id - 1]
        stored.attempts, stored.used_at = sms_code.attempts, sms_code.used_at


class FakeCaptchas:
    def __init__(self):
        self.stored = {}  # id → CaptchaChallenge

    def get(self, challenge_id):
        return copy.deepcopy(self.stored.get(challenge_id))

    def add(self, challenge):
        self.stored[challenge.id] = copy.deepcopy(challenge)

    def save(self, challenge):
        self.stored[challenge.id].used_at = challenge.used_at

    def forget_before(self, moment):
        self.stored = {k: c for k, c in self.stored.items() if c.created_at >= moment}


class FakeLoginFailures:
    def __init__(self):
        self.accounts = []  # (account id, failed_at)
        self.phones = []  # (phone index, failed_at)

    def of_account(self, account_id, after):
        return [at for who, at in self.accounts if who == account_id and at > after]

    def add_for_account(self, account_id, at):
        self.accounts.append((account_id, at))

    def clear_account(self, account_id, until):
        self.accounts = [(who, at) for who, at in self.accounts if who != account_id or at > until]

    def of_phone(self, phone_index, after):
        return [at for who, at in self.phones if who == phone_index and at > after]

    def add_for_phone(self, phone_index, at):
        self.phones.append((phone_index, at))

    def clear_phone(self, phone_index, until):
        self.phones = [(who, at) for who, at in self.phones if who != phone_index or at > until]

    def forget_phones_before(self, moment):
        self.phones = [(who, at) for who, at in self.phones if at > moment]
