"""Staff accounts in the admin console: list them, create them under the rule of
domain/staff_roles.py (who may create which role). No nameko, no SQLAlchemy here, as in handlers."""
import logging

from services.common import clock
from services.common.masking import mask_phone
from services.common.offload import inline

from . import handlers
from .domain import staff_roles

log = logging.getLogger("services.identity")


def create_staff(uow_factory, settings, phone, role, password, principal=None, offload=inline):
    """principal None: the operator's command line; otherwise the rule of domain/staff_roles.py."""
    if principal is not None:
        staff_roles.require_may_create((principal or {}).get("roles"), role)
    answer = handlers.create_staff(uow_factory, settings, phone, role, password, offload)
    if principal is not None:
        log.info("staff account %s (%s) created by %s", answer["account_id"], role, principal.get("account_id"))
    return answer


def list_staff(uow, principal, sms_fallback_roles):
    """{"staff": every account with a staff role, oldest first (id, roles, masked phone, last
    activity, whether TOTP is set up), "creatable_roles": the roles this viewer may create,
    "may_reset_second_factor": whether this viewer is a security admin}."""
    viewer_roles = (principal or {}).get("roles")
    staff_roles.require_may_list(viewer_roles)
    answer = [{"account_id": member.account_id, "roles": member.roles, "phone_masked": mask_phone(member.phone),
               "created_at": clock.iso(member.created_at),
               "last_seen_at": clock.iso(member.last_seen_at) if member.last_seen_at else None,
               "second_factor": staff_roles.needs_second_factor(member.roles),
               "totp_enrolled": member.totp_enrolled,
               "sms_fallback": staff_roles.may_use_sms(member.roles, sms_fallback_roles)}
              for member in uow.accounts.staff()]
    return {"staff": answer, "creatable_roles": sorted(staff_roles.creatable_roles(viewer_roles)),
            "may_reset_second_factor": bool(set(viewer_roles or ()) & staff_roles.RESET_SECOND_FACTOR_ROLES)}
