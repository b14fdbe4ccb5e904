"""The workbench pages without a browser: what the forms turn into, and how the task page shows the
automatic findings (checks and flags, when review.get_task carries them) — labels, never codes."""
import pytest
from werkzeug.datastructures import ImmutableMultiDict

from services.contracts.errors import Conflict, ValidationFailed
from services.gateway.site import review
from services.gateway.site.render import ENV
from services.registration.domain import codes, form

REASONS = {"unclear": "照片不清晰", "wrong_side": "上传了身份证错误的一面", "wrong_size": "照片尺寸不符"}


def test_waiting_time_reads_as_people_say_it():
    assert [review.waited(s) for s in (None, 0, 59, 45 * 60, 5 * 3600, 5 * 3600 + 20 * 60, 3 * 86400 + 7200)] == [
        "", "0分钟", "0分钟", "45分钟", "5小时", "5小时20分钟", "3天2小时"]


def test_queue_filters_from_the_query_string_fall_back_to_the_defaults():
    page = review.QUEUE_PAGE
    assert review._queue_filters(ImmutableMultiDict()) == ({"state": "open", "limit": page},
                                                           {"campaign": "", "state": "open", "waiting": ""})
    filters, shown = review._queue_filters(ImmutableMultiDict({"campaign": "c1", "state": "mine", "waiting": "86400"}))
    assert filters == {"state": "mine", "limit": page, "campaign_id": "c1", "min_waiting_seconds": 86400}
    filters, _ = review._queue_filters(ImmutableMultiDict({"state": "drop table", "waiting": "12"}))
    assert filters == {"state": "open", "limit": page}
    filters, _ = review._queue_filters(ImmutableMultiDict({"after": "t-50"}))  # the next page (keyset)
    assert filters == {"state": "open", "limit": page, "after": "t-50"}


def test_reasons_become_one_material_issue_each():
    posted = ImmutableMultiDict([("reason.id_card_back", "wrong_side"), ("reason.id_card_back", "unclear"),
                                 ("reason_text.certificate", "  证书编号处反光  "), ("reason_text.photo", " ")])
    assert review._material_issues(posted, REASONS) == [
        {"kind": "id_card_back", "reason": "上传了身份证错误的一面"}, {"kind": "id_card_back", "reason": "照片不清晰"},
        {"kind": "certificate", "reason": "证书编号处反光"}]
    with pytest.raises(ValidationFailed) as stale:
        review._material_issues(ImmutableMultiDict([("reason.photo", "retired")]), REASONS)
    assert list(stale.value.details) == ["reason.photo"]


def test_refusals_land_at_their_fields():
    refused = ValidationFailed("审核决定填写有误，请按提示修改", details={
        "opinion": ["不通过时必须填写审核意见"], "decision": ["审核结论应为…"], "Idempotency-Key": ["长度…"]})
    assert review._decision_errors(refused) == {"opinion": ["不通过时必须填写审核意见"], "_form": ["审核结论应为…", "长度…"]}
    assert review._decision_errors(Conflict("该任务已审核完毕")) == {"_form": ["该任务已审核完毕"]}


def material(**extra):
    return {"material_id": "m", "found": True, "uploaded_by_applicant": True, "ok": True, "issues": [],
            "width": 413, "height": 626, "content_type": "image/jpeg", "sharpness": 80.0, "purged": False, **extra}


def render_task(materials, holding=True, state="claimed"):
    tables = codes.all_tables()
    labels = {name: {row["code"]: row["label"] for row in rows} for name, rows in tables.items()}
    task = {"id": "t1", "application_id": "a1", "attempt": 2, "state": state, "claimed_by": "r1",
            "claim_expires_at": "2020-07-03T10:45:00.000+08:00", "campaign_id": "c1", "application_kind": "FIRST",
            "cert_level": "INTERMEDIATE", "district_code": "110105", "submitted_at": "2020-07-03T10:15:00.000+08:00",
            "waiting_seconds": 600, "own_application": False, "decision": None, "material_issues": [],
            "materials": materials}
    submitted = {"name": "张三", "id_type": "RESIDENT_ID", "id_number": "11010519491231002X", "cert_level": "INTERMEDIATE",
                 "gender": "F", "birth_date": "1949-12-31", "approval_date": "2019-12-20", "ethnicity": "01",
                 "service_fields": ["SOCIAL_WELFARE"], "years_in_social_work": 5,
                 "delivery": {"method": "MAIL", "postcode": "100022"}}
    return ENV.get_template("review/task.html").render(
        principal={"account_id": "r1", "roles": ["reviewer"]}, csrf="x", contact=None, labels=labels, tables=tables,
        path="/review/tasks/t1", message=None, errors=None, task=task, form=submitted, spec=form.spec(), earlier=[],
        holding=holding, me="r1", campaign_name="2020年首次登记", campaign="", kinds=review.KINDS,
        kind_labels=review.KIND_LABELS, reasons={k: [{"code": "unclear", "reason": "照片不清晰"}] for k in review.KINDS},
        posted=review._posted_decision(None), idempotency_key="k" * 32, waited=review.waited,
        shortcuts=review.TASK_SHORTCUTS)


def test_the_task_page_shows_checks_and_flags_when_get_task_has_them():
    page = render_task({
        "photo": material(checks=[
            {"code": "face_found", "ok": True, "message": "检测到一张正面人脸", "confidence": 0.89, "severity": "info"},
            {"code": "background", "ok": False, "message": "背景可能不是纯色", "confidence": None, "severity": "warn"}],
            flags=["与另一申请的照片相同", {"code": "duplicate", "message": "与申请a9的证书照片相似"}]),
        "id_card_front": material(uploaded_by_applicant=False),
        "id_card_back": material(purged=True),
    })
    assert "检测到一张正面人脸" in page and "把握度89%" in page
    assert "背景可能不是纯色" in page and "与另一申请的照片相同" in page and "与申请a9的证书照片相似" in page
    assert "该材料不是申请人本人上传的" in page and "已按保存期限删除" in page and "未找到该材料" in page
    assert "上传时的格式、尺寸、清晰度检查均通过" not in page.split('id="photo-photo"')[1].split("</figure>")[0]
    # Labels, never codes: the locked data, what was typed, the task itself.
    for shown in ("居民身份证", "社会工作师（中级）", "女", "1949年12月31日", "2019年12月20日", "汉族", "社会福利", "邮寄", "5年",
                  "首次登记", "审核中"):
        assert shown in page, shown
    for code in ("RESIDENT_ID", "INTERMEDIATE", "SOCIAL_WELFARE", "MAIL", ">claimed<", ">FIRST<"):
        assert code not in page, code
    assert 'name="idempotency_key" value="' + "k" * 32 in page and 'form="decision-form"' in page


def test_someone_else_s_claim_shows_no_decision_form():
    page = render_task({"photo": material()}, holding=False)
    assert "decision-form" not in page and "该任务已由其他审核员领取" in page
