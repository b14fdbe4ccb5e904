"""The two peer services this one asks questions: identity (who is this person) and review (which
material is this). Calls happen before a unit of work opens, with a deadline, and come back as
plain dicts the handlers understand."""
import logging

import eventlet
from nameko.exceptions import UnknownService

from services.contracts.errors import Conflict, DomainError, Forbidden, NotFound

log = logging.getLogger(__name__)

DEFAULT_TIMEOUT = 10.0


def _unavailable(what):
    return DomainError(f"{what}暂时无法响应，请稍后再试", code="service_unavailable", http_status=503)


def _call(method, args, what, timeout):
    try:
        with eventlet.Timeout(timeout):
            return method(*args)
    except eventlet.Timeout:
        log.warning("%s did not answer within %ss", what, timeout)
        raise _unavailable(what) from None
    except UnknownService:
        raise _unavailable(what) from None


def identity_of(proxy, account_id, timeout=DEFAULT_TIMEOUT):
    """{"verified": bool, "name", "id_type", "id_number", ...}; an account without a verified
    identity (or unknown to identity) answers verified False."""
    try:
        answer = _call(proxy.identity_of, (account_id,), "实名认证服务", timeout)
    except (NotFound, Forbidden, Conflict):
        return {"account_id": account_id, "verified": False}
    answer = dict(answer or {})
    verified = bool(answer.get("name") and answer.get("id_type") and answer.get("id_number")
                    and answer.get("level"))
    return {**answer, "account_id": account_id, "verified": verified}


def material_info(proxy, material_id, timeout=DEFAULT_TIMEOUT):
    """{"material_id", "application_id", "account_id", "kind", "ok"} from review."""
    if not isinstance(material_id, str) or not material_id.strip():
        raise NotFound("材料不存在，请重新上传", code="material_not_found")
    return _call(proxy.material_info, (material_id,), "材料审核服务", timeout)
