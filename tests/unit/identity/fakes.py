"""In-memory twins of services/identity/repository.py, behind the same methods, for the unit tests
of the identity service layer in the unit-of-work form. They hand out copies, as rows loaded afresh
would be."""
import copy

from services.identity.repository import AccountRecord, IdentityRecord, SessionRecord
from tests.support.fakes import FakeAuditLog, FakeUnitOfWork


def fake_uow():
    """A FakeUnitOfWork with every identity repository so far, empty."""
    accounts = FakeAccounts()
    return FakeUnitOfWork(accounts=accounts, sessions=FakeSessions(accounts), second_factors=FakeSecondFactors(),
                          identities=FakeIdentities(), audit=FakeAuditLog())


class FakeIdentities:
    def __init__(self):
        self.stored = {}

    def get(self, account_id):
        return copy.deepcopy(self.stored.get(str(account_id)))

    def put(self, account_id, id_type, name, id_number, level, at):
        """Test set-up: an identity as if verified earlier."""
        self.stored[account_id] = IdentityRecord(account_id=account_id, id_type=id_type, name=name,
                                                 id_number=id_number, level=level, verified_at=at)


class FakeAccounts:
    def __init__(self):
        self.stored = {}

    def get(self, account_id, lock=False):
        return copy.deepcopy(self.stored.get(str(account_id)))

    def put(self, account_id, phone, roles, at):
        """Test set-up: an account as if created earlier."""
        self.stored[account_id] = AccountRecord(id=account_id, phone=phone, roles=list(roles), created_at=at,
                                                password_changed_at=at)


class FakeSessions:
    def __init__(self, accounts):
        self.stored = {}  # token hash → {"id", "account_id", "created_at", "last_seen_at", "revoked_at"}
        self.identities = {}  # account id → (level, name, id_number): the verified ones
        self._accounts = accounts

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
        return SessionRecord(roles=list(account.roles), phone=account.phone, level=level, name=name,
                             id_number=id_number, **found)

    def touch(self, session_id, now):
        for found in self.stored.values():
            if found["id"] == session_id:
                found["last_seen_at"] = now

    def revoke(self, token_hash, now):
        if token_hash in self.stored and self.stored[token_hash]["revoked_at"] is None:
            self.stored[token_hash]["revoked_at"] = now

    def revoke_all(self, account_id, now):
        for found in self.stored.values():
            if found["account_id"] == account_id and found["revoked_at"] is None:
                found["revoked_at"] = now

    def live(self, account_id):
        return [s for s in self.stored.values() if s["account_id"] == account_id and s["revoked_at"] is None]


class FakeSecondFactors:
    def __init__(self):
        self.stored = {}  # account id → TotpFactor
        self.recovery_codes = {}  # account id → {code hash: used_at}

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
