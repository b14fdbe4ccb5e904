"""What registration publishes for other services' documents, as one JSON snapshot.

The gateway's OpenAPI document describes the application form (`FormChanges`), the code values
and the campaign request, but the gateway may not import registration's code. `make contracts`
writes this snapshot to services/contracts/registration.json — the same data the `form_spec` and
`code_tables` RPCs answer, and the JSON Schema of `CampaignRequest` — and a drift test
(tests/unit/gateway/test_openapi_drift.py) fails when the file is stale.
"""
import json
import sys

from apispec import APISpec
from apispec.ext.marshmallow import MarshmallowPlugin

from .domain import codes, form
from .schemas import CampaignRequest


def snapshot():
    spec = APISpec(title="registration", version="1", openapi_version="3.0.3", plugins=[MarshmallowPlugin()])
    spec.components.schema("CampaignRequest", schema=CampaignRequest)
    return {"form_spec": form.spec(), "code_tables": codes.all_tables(),
            "schemas": spec.to_dict()["components"]["schemas"]}


def render():
    return json.dumps(snapshot(), ensure_ascii=False, indent=1, sort_keys=True) + "\n"


if __name__ == "__main__":
    sys.stdout.write(render())
