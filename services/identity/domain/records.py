"""What identity's service layer works with: rows of its tables as plain records (the repository
turns rows into these and back; the service layer never sees a ciphertext)."""
from dataclasses import dataclass, field
from datetime import datetime


@dataclass
class AccountRecord:
    """An account as the service layer sees it: the phone in clear, the roles as a list, the argon2 hash."""
    id: str
    phone: str
    roles: list
    created_at: datetime
    password_changed_at: datetime | None = None
    password_hash: str | None = field(default=None, repr=False)  # never in a log line or a traceback


@dataclass
class StaffMember:
    """A line of the staff list: an account with a staff role, its last activity and second factor."""
    account_id: str
    roles: list
    phone: str
    created_at: datetime
    last_seen_at: datetime | None
    totp_enrolled: bool


@dataclass
class IdentityRecord:
    """A verified identity, name and number in clear (only the service layer sees them)."""
    account_id: str
    id_type: str
    name: str
    id_number: str
    level: str
    verified_at: datetime


@dataclass
class SessionRecord:
    """A login session with whom it belongs to: the account, and its verified identity when there is one."""
    id: int
    account_id: str
    roles: list
    phone: str
    created_at: datetime
    last_seen_at: datetime
    revoked_at: datetime | None = None
    level: str | None = None  # the identity's verification level; None: not verified
    name: str | None = None
    id_number: str | None = None


@dataclass
class TotpFactor:
    """A staff member's TOTP second factor; `last_step`: the last time-step accepted (no code twice)."""
    account_id: str
    secret: str
    created_at: datetime
    confirmed_at: datetime | None = None
    last_step: int | None = None
