"""Who may manage staff accounts (三员分立: system admin, security admin, auditor).

The rule, stated once:
- a security admin (安全管理员) creates staff accounts of every staff role;
- a system admin (系统管理员) creates reviewers only — never another admin, security admin or
  auditor, so no admin can grant itself or a friend the powers that watch it;
- an auditor (审计员) and a reviewer create nothing;
- the operator's command line (`python -m services.identity create-staff`, no principal) makes the
  first accounts.
Staff lists (masked phones, roles) are for the security admin, the admin and the auditor, who needs
them to tell who an account id in the audit log is. Every staff role logs in with a password and a
second factor that does not travel by SMS (TOTP, docs/signin.md); only roles listed in
STAFF_SMS_FALLBACK_ROLES may use an SMS code (admin_login) instead, until they enrol TOTP. Only the
security admin resets someone's second factor.
"""
from services.contracts.errors import Forbidden, ValidationFailed
from services.contracts.roles import (
    ADMIN,
    AUDITOR,
    REVIEWER,
    ROLE_LABELS,
    SECURITY_ADMIN,
    STAFF_ACCOUNT_ROLES,
)

CREATABLE_BY = {SECURITY_ADMIN: STAFF_ACCOUNT_ROLES, ADMIN: frozenset({REVIEWER})}
LIST_ROLES = frozenset({SECURITY_ADMIN, ADMIN, AUDITOR})
SECOND_FACTOR_ROLES = STAFF_ACCOUNT_ROLES
RESET_SECOND_FACTOR_ROLES = frozenset({SECURITY_ADMIN})


def check_role(role):
    if role not in STAFF_ACCOUNT_ROLES:
        names = "、".join(f"{r}（{ROLE_LABELS[r]}）" for r in sorted(STAFF_ACCOUNT_ROLES))
        message = f"角色应为 {names} 之一"
        raise ValidationFailed(message, code="invalid_role", details={"role": [message]})
    return role


def creatable_roles(creator_roles):
    """The staff roles an account with `creator_roles` may create (empty: none)."""
    allowed = set()
    for role in creator_roles or ():
        allowed |= CREATABLE_BY.get(role, frozenset())
    return frozenset(allowed)


def require_may_create(creator_roles, role):
    check_role(role)
    allowed = creatable_roles(creator_roles)
    if not allowed:
        raise Forbidden("只有安全管理员或系统管理员可以创建工作人员账号", code="forbidden")
    if role not in allowed:
        message = f"您只能创建{'、'.join(ROLE_LABELS[r] for r in sorted(allowed))}账号；" \
                  f"{ROLE_LABELS[role]}账号请由安全管理员创建"
        raise Forbidden(message, code="role_not_allowed", details={"role": [message]})


def require_may_list(viewer_roles):
    if not set(viewer_roles or ()) & LIST_ROLES:
        raise Forbidden("只有安全管理员、系统管理员或审计员可以查看工作人员账号", code="forbidden")


def needs_second_factor(roles):
    return bool(set(roles or ()) & SECOND_FACTOR_ROLES)


def may_use_sms(roles, fallback_roles):
    """Whether policy lets this account log in with an SMS code instead of TOTP: every staff role it
    has is listed in STAFF_SMS_FALLBACK_ROLES."""
    staff = set(roles or ()) & SECOND_FACTOR_ROLES
    return bool(staff) and staff <= set(fallback_roles or ())


def require_may_reset_second_factor(roles):
    if not set(roles or ()) & RESET_SECOND_FACTOR_ROLES:
        raise Forbidden("只有安全管理员可以重置工作人员的二次验证", code="forbidden")
