"""Test doubles of the registration service's peers: tiny nameko services named "identity" and
"review" that answer the two questions registration asks them (docs/rpc.md)."""
from nameko.rpc import rpc

from services.contracts.errors import NotFound


class IdentityStandIn:
    name = "identity"
    people = {}  # account_id → identity_of answer; absent: not verified

    @rpc
    def identity_of(self, account_id):
        answer = IdentityStandIn.people.get(account_id)
        if answer is None:
            raise NotFound("该账号尚未实名认证", code="identity_not_verified")
        return answer


class ReviewStandIn:
    name = "review"
    materials = {}  # material_id → material_info answer

    @rpc
    def material_info(self, material_id):
        answer = ReviewStandIn.materials.get(material_id)
        if answer is None:
            raise NotFound("材料不存在", code="material_not_found")
        return answer


def reset():
    IdentityStandIn.people.clear()
    ReviewStandIn.materials.clear()
