"""Staff accounts in the admin console: list them, create them under the rule of
domain/staff_roles.py (who may create which role). No nameko here, as in handlers."""
import logging

from sqlalchemy import func, select

from services.common import clock
from services.common.masking import mask_phone
from services.contracts.roles import APPLICANT

from . import handlers
from .domain import staff_roles
from .models import PHONE, Account, LoginSession, StaffTotp

log = logging.getLogger("services.identity")


def create_staff(ctx, phone, role, password, principal=None):
    """principal None: the operator's command line; otherwise the rule of domain/staff_roles.py."""
    if principal is not None:
        staff_roles.require_may_create((principal or {}).get("roles"), role)
    answer = handlers.create_staff(ctx, phone, role, password)
    if principal is not None:
        log.info("staff account %s (%s) created by %s", answer["account_id"], role, principal.get("account_id"))
    return answer


def list_staff(ctx, principal):
    """{"staff": every account with a staff role, oldest first (id, roles, masked phone, last
    activity, whether TOTP is set up), "creatable_roles": the roles this viewer may create,
    "may_reset_second_factor": whether this viewer is a security admin}."""
    viewer_roles = (principal or {}).get("roles")
    staff_roles.require_may_list(viewer_roles)
    with ctx.uow() as uow:
        last_seen = (select(LoginSession.account_id, func.max(LoginSession.last_seen_at).label("last_seen_at"))
                     .group_by(LoginSession.account_id).subquery())
        rows = uow.session.execute(
            select(Account.id, Account.roles, Account.phone_enc, Account.created_at, last_seen.c.last_seen_at,
                   StaffTotp.confirmed_at.label("totp_at"))
            .outerjoin(last_seen, last_seen.c.account_id == Account.id)
            .outerjoin(StaffTotp, StaffTotp.account_id == Account.id)
            .where(Account.roles != APPLICANT).order_by(Account.created_at, Account.id)).all()
    answer = []
    for row in rows:
        roles = [r for r in row.roles.split(",") if r and r != APPLICANT]
        if not roles:
            continue
        answer.append({"account_id": row.id, "roles": roles,
                       "phone_masked": mask_phone(ctx.cipher.decrypt(row.phone_enc, PHONE)),
                       "created_at": clock.iso(row.created_at),
                       "last_seen_at": clock.iso(row.last_seen_at) if row.last_seen_at else None,
                       "second_factor": staff_roles.needs_second_factor(roles),
                       "totp_enrolled": row.totp_at is not None,
                       "sms_fallback": staff_roles.may_use_sms(roles, ctx.settings.sms_fallback_roles)})
    return {"staff": answer, "creatable_roles": sorted(staff_roles.creatable_roles(viewer_roles)),
            "may_reset_second_factor": bool(set(viewer_roles or ()) & staff_roles.RESET_SECOND_FACTOR_ROLES)}
