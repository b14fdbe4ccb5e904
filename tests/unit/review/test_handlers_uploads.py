"""The material commands of services/review/uploads.py on a fake unit of work and store: every
upload checked is recorded (a refused one with its verdict only), staff looks are audited, the
retention purge keeps the rows and removes the files."""
import base64
from datetime import timedelta

import pytest

from services.contracts.errors import NotFound, ValidationFailed
from services.review import handlers, uploads
from services.review.settings import ReviewSettings

from .fakes import FakeStore, fake_uow
from .handler_steps import APPLICANT, LEASE, NOW, REVIEWER, application_submitted
from .review_material_samples import certificate, jpeg

SETTINGS = ReviewSettings()


@pytest.fixture(scope="module")
def certificate_b64():
    return base64.b64encode(jpeg(certificate(1240, 1754, seed=3), 88)).decode()


def upload(uow, store, content_b64, kind="certificate", account_id="applicant-1"):
    return uploads.check_material(uow, store, account_id, "app-1", kind, content_b64, SETTINGS, NOW)


def test_a_refused_upload_is_recorded_with_its_verdict_and_no_file():
    uow, store = fake_uow(), FakeStore()
    answer = upload(uow, store, base64.b64encode(b"not a picture at all").decode())
    assert answer["material_id"] is None and answer["verdict"]["ok"] is False
    [stored] = uow.materials.stored.values()
    assert (stored.ok, stored.path, stored.verdict) == (False, None, answer["verdict"])
    assert store.files == {}
    [check] = uploads.material_checks(uow, APPLICANT, "app-1", NOW)
    assert (check["ok"], check["material_id"]) == (False, None)


def test_an_upload_over_the_limit_is_refused_before_decoding_and_recorded():
    uow = fake_uow()
    answer = upload(uow, FakeStore(), "A" * (SETTINGS.max_upload_bytes * 2))
    assert [i["code"] for i in answer["verdict"]["issues"]] == ["too_large"]
    assert len(uow.materials.stored) == 1


def test_bad_input_is_refused_and_nothing_is_recorded():
    uow = fake_uow()
    with pytest.raises(ValidationFailed):
        upload(uow, FakeStore(), "%%% not base64 %%%")
    with pytest.raises(ValidationFailed):
        uploads.check_material(uow, FakeStore(), "", "app-1", "certificate", "", SETTINGS, NOW)
    assert uow.materials.stored == {}


def test_an_accepted_upload_is_stored_shown_to_its_owner_and_to_staff_with_an_audit_entry(certificate_b64):
    uow, store = fake_uow(), FakeStore()
    answer = upload(uow, store, certificate_b64)
    material_id = answer["material_id"]
    assert material_id and answer["verdict"]["ok"]
    assert uow.materials.fingerprints[material_id]  # kept for the duplicate checks
    assert uploads.material_info(uow, material_id)["kind"] == "certificate"
    owner = uploads.fetch_material(uow, store, material_id, APPLICANT, "thumbnail", NOW)
    assert base64.b64decode(owner["content_b64"]) and uow.audit.stored == []
    uploads.fetch_material(uow, store, material_id, REVIEWER, "image", NOW)
    assert uow.audit.actions() == ["material.viewed"] and uow.audit.stored[0]["application_id"] == "app-1"
    with pytest.raises(NotFound):
        uploads.fetch_material(uow, store, material_id, {"account_id": "someone", "roles": ["applicant"]},
                               "image", NOW)


def test_the_purge_removes_the_files_of_approved_applications_and_keeps_the_rows(certificate_b64):
    uow, store = fake_uow(), FakeStore()
    material_id = upload(uow, store, certificate_b64)["material_id"]
    with uow:
        task_id = handlers.on_application_submitted(
            uow, application_submitted(material_ids={"certificate": material_id}), NOW)
        handlers.claim(uow, REVIEWER, task_id, LEASE, NOW)
        handlers.decide(uow, REVIEWER, task_id, "approved", None, [], None, NOW)
    later = NOW + timedelta(days=31)
    assert uploads.purge_materials(uow, store, 31, later)["purged"] == 1  # approved exactly 31 days ago
    assert store.files == {} and uow.materials.stored[material_id].purged_at == later
    assert uow.audit.actions()[-1] == "material.purged"
    with pytest.raises(NotFound) as purged:
        uploads.fetch_material(uow, store, material_id, REVIEWER, "image", later)
    assert purged.value.code == "material_purged"
    assert uploads.purge_materials(uow, store, 31, later)["purged"] == 0
