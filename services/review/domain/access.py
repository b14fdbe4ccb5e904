"""Who may act on the review queue: the caller's identity as identity.authenticate answered it.

Staff (reviewers and admins) see the queue and any material, each look audited; an applicant sees
only their own uploads. Never one's own application: see tasks.forbid_own_application.
"""
from services.contracts.errors import Forbidden, Unauthenticated
from services.contracts.roles import STAFF_ROLES


def principal_of(principal):
    """(account_id, roles) of an identity.authenticate answer; Unauthenticated when it is not one."""
    if not isinstance(principal, dict) or not isinstance(principal.get("account_id"), str) \
            or not principal["account_id"]:
        raise Unauthenticated("请先登录", code="unauthenticated")
    roles = principal.get("roles") or []
    return principal["account_id"], tuple(r for r in roles if isinstance(r, str))


def is_staff(roles):
    return any(role in STAFF_ROLES for role in roles)


def require_staff(principal):
    account_id, roles = principal_of(principal)
    if not is_staff(roles):
        raise Forbidden("只有审核人员可以查看和处理审核任务", code="staff_only")
    return account_id, roles
