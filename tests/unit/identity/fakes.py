"""In-memory twins of services/identity/repository.py, behind the same methods, for the unit tests
of the identity service layer in the unit-of-work form. They hand out copies, as rows loaded afresh
would be."""
import copy

from services.identity.repository import AccountRecord
from tests.support.fakes import FakeAuditLog, FakeUnitOfWork


def fake_uow():
    """A FakeUnitOfWork with every identity repository so far, empty."""
    return FakeUnitOfWork(accounts=FakeAccounts(), sessions=FakeSessions(), second_factors=FakeSecondFactors(),
                          audit=FakeAuditLog())


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
    def __init__(self):
        self.stored = []  # {"account_id", "revoked_at"}

    def open(self, account_id, at):
        """Test set-up: a live session."""
        self.stored.append({"account_id": account_id, "revoked_at": None, "created_at": at})

    def revoke_all(self, account_id, now):
        for session in self.stored:
            if session["account_id"] == account_id and session["revoked_at"] is None:
                session["revoked_at"] = now

    def live(self, account_id):
        return [s for s in self.stored if s["account_id"] == account_id and s["revoked_at"] is None]


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
