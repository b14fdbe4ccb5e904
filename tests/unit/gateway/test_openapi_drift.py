"""services/contracts/registration.json — what the gateway's document knows of registration's form,
code tables and campaign request — is exactly what registration's code says today."""
from services.gateway import openapi
from services.registration import handlers, published


def test_the_registration_snapshot_is_current():
    committed = openapi.SNAPSHOT.read_text(encoding="utf-8")
    assert committed == published.render(), "services/contracts/registration.json is stale: run `make contracts`"


def test_the_snapshot_is_what_the_rpcs_answer():
    snapshot = openapi._load_snapshot()
    assert snapshot["form_spec"] == handlers.form_spec()
    assert snapshot["code_tables"] == {k: [dict(e) for e in v] for k, v in handlers.code_tables().items()}
