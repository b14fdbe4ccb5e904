"""Material uploads through the review service: checked, re-encoded, encrypted at rest, served only
to their owner and to staff (every staff look audited)."""
import base64
import io
import os
import re

import pytest
from cryptography.exceptions import InvalidTag
from PIL import Image

from services.contracts.errors import NotFound, ValidationFailed
from services.review.models import Material
from tests.support.images import certificate, id_card, id_card_back, jpeg, photo
from tests.support.infra import wait_for
from tests.unit.review.review_material_samples import gaussian

from .conftest import ADMIN, APPLICANT, OTHER_APPLICANT, REVIEWER, submitted_data

CHINESE = re.compile(r"[\u4e00-\u9fff]")


def phone_shot_with_exif():
    """An ID card shot with the phone held upright: pixels stored turned, EXIF says turn them back;
    the EXIF also names the phone (what a stored copy must not keep), and a ZIP rides at the end."""
    exif = Image.Exif()
    exif[0x0112] = 6  # rotate 90° clockwise to display
    exif[0x010F] = "PhoneMaker"
    exif[0x0110] = "Model X"
    data = jpeg(id_card(seed=1).rotate(90, expand=True), exif=exif.tobytes())
    return data + b"PK\x03\x04appended-secret-archive"


def store_files(harness):
    root = harness.store.root
    return [os.path.join(d, f) for d, _, files in os.walk(root) for f in files] if os.path.isdir(root) else []


def test_accepted_upload_is_stored_reencoded_and_encrypted(review):
    answer = review.upload(phone_shot_with_exif(), kind="id_card_front")
    assert answer["material_id"] and answer["verdict"]["ok"], answer
    assert answer["verdict"]["width"] == 1600 and answer["verdict"]["height"] == 1000

    [row] = review.materials(Material.id == answer["material_id"])
    assert row["ok"] and row["content_type"] == "image/jpeg" and (row["width"], row["height"]) == (1600, 1000)
    assert row["path"].startswith("id_card_front/") and row["sha256"] in row["path"]
    files = store_files(review)
    assert len(files) == 2  # the image and its thumbnail
    for path in files:
        with open(path, "rb") as fh:
            raw = fh.read()
        assert not raw.startswith(b"\xff\xd8"), "stored bytes must not be a readable JPEG"
        assert b"JFIF" not in raw and b"Exif" not in raw and b"PhoneMaker" not in raw
        assert os.stat(path).st_mode & 0o077 == 0  # private to the service
    # Bound to its kind: the file does not decrypt as another material kind.
    cipher = review.store.cipher
    with pytest.raises(InvalidTag):
        cipher.decrypt_bytes(review.store.raw(row["path"]), "photo")

    with review.rpc() as rpc:
        blob = rpc.fetch_material(answer["material_id"], APPLICANT)
    assert blob["content_type"] == "image/jpeg"
    data = base64.b64decode(blob["content_b64"])
    import hashlib
    assert hashlib.sha256(data).hexdigest() == row["sha256"]  # content-addressed
    im = Image.open(io.BytesIO(data))
    assert im.format == "JPEG" and im.size == (1600, 1000)  # turned upright
    assert not im.getexif() and "exif" not in im.info
    assert b"PhoneMaker" not in data and b"appended-secret-archive" not in data and b"PK\x03\x04" not in data

    with review.rpc() as rpc:
        thumb = rpc.fetch_material(answer["material_id"], APPLICANT, "thumbnail")
    small = Image.open(io.BytesIO(base64.b64decode(thumb["content_b64"])))
    assert max(small.size) == 320 and small.width > small.height

    with review.rpc() as rpc:
        info = rpc.material_info(answer["material_id"])
    checks = info.pop("checks")
    assert info == {"material_id": answer["material_id"], "application_id": "app-1", "account_id": "applicant-1",
                    "kind": "id_card_front", "ok": True, "issues": [], "purged": False}
    # the portrait was found on the card turned upright by its EXIF orientation
    assert [(c["code"], c["ok"]) for c in checks] == [("portrait_found", True)]
    assert checks == answer["verdict"]["checks"]


def test_same_picture_twice_is_stored_once(review):
    data = jpeg(certificate(seed=3))
    first = review.upload(data, kind="certificate")
    second = review.upload(data, kind="certificate", application_id="app-2", account_id="applicant-2")
    assert first["material_id"] != second["material_id"]
    rows = review.materials()
    assert rows[0]["path"] == rows[1]["path"]
    assert len(store_files(review)) == 2


def test_refused_upload_says_why_in_chinese_and_stores_no_image(review):
    one_inch = jpeg(photo(295, 413))
    answer = review.upload(one_inch, kind="photo")
    assert answer["material_id"] is None
    verdict = answer["verdict"]
    assert verdict["ok"] is False and verdict["kind"] == "photo"
    [issue] = verdict["issues"]
    assert issue["code"] == "wrong_photo_size"
    assert "413×626" in issue["message"] and "295×413" in issue["message"] and CHINESE.search(issue["message"])

    blurred = review.upload(jpeg(gaussian(photo(seed=3), 5)), kind="photo")
    assert blurred["material_id"] is None and [i["code"] for i in blurred["verdict"]["issues"]] == ["blurry"]
    assert "清晰" in blurred["verdict"]["issues"][0]["message"]

    gif = review.upload(b"GIF89a" + b"\x00" * 100, kind="photo")
    assert gif["verdict"]["issues"][0]["code"] == "unsupported_type"
    assert CHINESE.search(gif["verdict"]["issues"][0]["message"])

    assert store_files(review) == []
    rows = review.materials()
    assert len(rows) == 3 and not any(r["ok"] or r["path"] or r["thumb_path"] for r in rows)
    assert rows[0]["verdict"]["issues"][0]["code"] == "wrong_photo_size"  # kept: "why was it refused"

    with review.rpc() as rpc:
        history = rpc.material_checks(APPLICANT, "app-1")
        assert [h["ok"] for h in history] == [False, False, False]
        assert {h["issues"][0]["code"] for h in history} == {"wrong_photo_size", "blurry", "unsupported_type"}
        assert rpc.material_checks(OTHER_APPLICANT, "app-1") == []
        with pytest.raises(NotFound):
            rpc.material_info(rows[0]["id"])  # a refused upload is nothing to attach


def test_size_limit_is_enforced_before_decoding(start_review):
    review = start_review(MAX_UPLOAD_BYTES=50_000)
    data = jpeg(id_card(seed=1))
    assert len(data) > 50_000
    answer = review.upload(data, kind="id_card_front")
    assert answer["material_id"] is None
    [issue] = answer["verdict"]["issues"]
    assert issue["code"] == "too_large" and "49KB的上限" in issue["message"] and "身份证人像面" in issue["message"]
    assert answer["verdict"]["format"] == "JPEG" and answer["verdict"]["width"] is None  # never opened
    assert store_files(review) == []


def test_bad_requests_are_refused_with_reasons(review):
    with review.rpc() as rpc:
        with pytest.raises(ValidationFailed) as bad_b64:
            rpc.check_material("applicant-1", "app-1", "photo", "not base64 at all!")
        assert bad_b64.value.details == {"content_b64": ["不是有效的base64编码"]}
        with pytest.raises(NotFound) as bad_kind:  # services/contracts: an unknown kind is 404 everywhere
            rpc.check_material("applicant-1", "app-1", "passport", base64.b64encode(b"x").decode())
        assert bad_kind.value.code == "unknown_material_kind" and int(bad_kind.value.http_status) == 404
        with pytest.raises(NotFound):
            rpc.material_info("no-such-material")


def test_only_owner_and_staff_see_an_image_and_staff_looks_are_audited(review):
    material_id = review.upload(jpeg(photo(seed=4)))["material_id"]
    with review.rpc() as rpc:
        rpc.fetch_material(material_id, APPLICANT)
        assert review.audit("material.viewed") == []  # the owner's own look is not a staff look
        for stranger in (OTHER_APPLICANT, {"account_id": "x", "roles": []}):
            with pytest.raises(NotFound) as refused:
                rpc.fetch_material(material_id, stranger)
            assert refused.value.code == "material_not_found"  # same answer as a missing material
        with pytest.raises(NotFound):
            rpc.fetch_material("no-such-material", REVIEWER)
        reviewer_copy = rpc.fetch_material(material_id, REVIEWER)
        rpc.fetch_material(material_id, ADMIN, "thumbnail")
    assert reviewer_copy["content_type"] == "image/jpeg"
    views = review.audit("material.viewed")
    assert [(v["actor"], v["subject"], v["details"]["variant"]) for v in views] == [
        ("reviewer-1", f"material:{material_id}", "image"), ("admin-1", f"material:{material_id}", "thumbnail")]
    assert views[0]["details"]["owner"] == "applicant-1" and views[0]["details"]["kind"] == "photo"


# --- what is in the picture -------------------------------------------------------------------

def test_photo_verdict_carries_the_face_check_with_its_confidence(review):
    answer = review.upload(jpeg(photo(seed=4)), kind="photo")
    assert answer["material_id"], answer
    [check] = answer["verdict"]["checks"]
    assert check["code"] == "one_face" and check["ok"] is True and 0 < check["confidence"] < 1
    assert CHINESE.search(check["message"]) and answer["verdict"]["reasons"] == []


def test_photo_without_a_face_is_refused_with_a_fix(review):
    from tests.data.material_set import portrait
    answer = review.upload(jpeg(portrait(seed=4, heads=0)), kind="photo")
    assert answer["material_id"] is None
    verdict = answer["verdict"]
    assert [i["code"] for i in verdict["issues"]] == ["no_face"]
    assert verdict["reasons"][0].startswith("两寸免冠照片中未检测到人像")
    assert verdict["checks"][0]["severity"] == "refuse" and verdict["checks"][0]["ok"] is False
    assert store_files(review) == []


def test_id_sides_swapped_are_refused(review):
    front, back = jpeg(id_card(seed=1)), jpeg(id_card_back(seed=1))
    as_back = review.upload(front, kind="id_card_back")
    assert as_back["material_id"] is None
    assert [i["code"] for i in as_back["verdict"]["issues"]] == ["portrait_on_back"]
    assert "正反面可能上传反了" in as_back["verdict"]["issues"][0]["message"]
    as_front = review.upload(back, kind="id_card_front")
    assert [i["code"] for i in as_front["verdict"]["issues"]] == ["no_portrait_on_front"]
    assert review.upload(front, kind="id_card_front")["verdict"]["ok"]
    assert review.upload(back, kind="id_card_back")["verdict"]["ok"]


def test_the_same_picture_in_two_slots_of_one_application_is_refused(review):
    back = id_card_back(seed=3)
    assert review.upload(jpeg(back, 92), kind="id_card_back")["material_id"]
    again = review.upload(jpeg(back, 70), kind="certificate")  # recompressed, in the certificate slot
    assert again["material_id"] is None
    [issue] = again["verdict"]["issues"]
    assert issue["code"] == "same_as_other_material" and "身份证国徽面" in issue["message"]
    # another application of the same account may use it: the check is per application
    assert review.upload(jpeg(back, 70), kind="certificate", application_id="app-2")["material_id"]


def test_a_photo_used_by_two_accounts_is_flagged_to_the_reviewer_only(review):
    face = photo(seed=6)
    mine = review.upload(jpeg(face, 92), kind="photo")
    theirs = review.upload(jpeg(face, 75), kind="photo", application_id="app-2", account_id="applicant-2")
    assert mine["material_id"] and theirs["material_id"]
    assert "flags" not in theirs["verdict"] and "applicant-1" not in str(theirs)  # the applicant learns nothing
    card = review.upload(jpeg(id_card_back(seed=4)), kind="id_card_back", application_id="app-2",
                         account_id="applicant-2")["material_id"]
    review.submit(submitted_data("app-2", account_id="applicant-2",
                                 material_ids={"photo": theirs["material_id"], "id_card_back": card}))
    task_id = wait_for(lambda: review.task_for("app-2"))
    with review.rpc() as rpc:
        task = rpc.get_task(REVIEWER, task_id)
    photo_view = task["materials"]["photo"]
    [flag] = photo_view["flags"]
    assert flag["code"] == "same_photo_other_account" and flag["accounts"] == 1 and CHINESE.search(flag["message"])
    assert "applicant-1" not in str(flag) and "app-1" not in str(flag)
    assert [c["code"] for c in photo_view["checks"]] == ["one_face"]
    # never the whole card: the back is a template everyone shares
    assert task["materials"]["id_card_back"]["flags"] == []
