"""An applicant on a phone-sized page: register with an SMS code, verify the real name, open the
pre-filled form, upload four photos (progress and verdict shown), save, submit after the explicit
confirmation, and read the notice's wording."""
import pytest

from tests.support import images
from tests.support.journey import ADMIN_PHONE, import_roster, open_campaign, roster_row, staff

pytestmark = pytest.mark.browser

PHONE, NAME, ID_NUMBER = "13800138000", "张三", "11010519491231002X"


def write_images(tmp_path):
    files = {}
    for kind, im in {"id_card_front": images.id_card(seed=1), "id_card_back": images.id_card(seed=2),
                     "certificate": images.certificate(seed=3), "photo": images.photo(seed=4)}.items():
        path = tmp_path / f"{kind}.jpg"
        path.write_bytes(images.jpeg(im))
        files[kind] = str(path)
    bad = tmp_path / "one-inch.jpg"
    bad.write_bytes(images.jpeg(images.photo(width=295, height=413, seed=5)))
    files["one_inch"] = str(bad)
    return files


def test_applicant_registers_fills_uploads_and_submits(system, browser, tmp_path):
    admin = staff(system, ADMIN_PHONE, "admin")
    open_campaign(system, admin)
    import_roster(admin, [roster_row(NAME, ID_NUMBER, "20191100000012345")])
    files = write_images(tmp_path)

    page = browser.new_page(viewport={"width": 390, "height": 844}, locale="zh-CN")
    page.goto(system.base_url + "/")
    page.fill("#phone", PHONE)
    page.fill("#password", "Appl1cant-Pass!")
    page.click("#send-code")
    page.wait_for_selector("text=验证码已发送")
    assert "秒后重新获取" in page.inner_text("#send-code") or page.is_disabled("#send-code")
    page.fill("#code", system.code_for(PHONE))
    page.click("#register")

    page.wait_for_selector("#identity:not([hidden])")
    page.fill("#real-name", NAME)
    page.fill("#id-number", "11010519491231002")  # one digit short: a clear Chinese reason
    page.click("#verify")
    page.wait_for_selector("text=18位")
    page.fill("#id-number", ID_NUMBER)
    page.click("#verify")

    page.wait_for_selector("#campaigns button")
    page.click("#campaigns button")
    page.wait_for_selector("#form:not([hidden])")
    assert ID_NUMBER in page.inner_text("#locked-list") and "20191100000012345" in page.inner_text("#locked-list")

    page.select_option("#f-ethnicity", "01")
    page.select_option("#f-political_status", "13")
    page.select_option("#f-education", "BACHELOR")
    page.fill("#f-major", "社会工作")
    page.fill("#f-graduated_from", "北京大学")
    page.fill("#f-graduated_on", "2015-07")
    page.fill("#f-employer", "朝阳区阳光社会工作服务中心")
    page.select_option("#f-employer_category", "SOCIAL_WORK_AGENCY")
    page.fill("#f-position", "社工")
    page.fill("#f-years_in_social_work", "5")
    page.select_option("#f-service_district", "110105")
    page.select_option("#f-service_fields", ["SOCIAL_WELFARE"])
    page.fill("#f-mobile", PHONE)
    page.fill("#f-email", "applicant@example.com")
    for field, value in {"recipient": NAME, "phone": PHONE, "province": "北京市", "city": "北京市",
                         "district": "朝阳区", "address": "建国路88号院3号楼2单元501", "postcode": "100022"}.items():
        page.fill(f"#d-{field}", value)
    page.click("#save")
    page.wait_for_selector("text=已保存")

    page.set_input_files("#file-photo", files["one_inch"])  # the 1-inch exam photo: refused, named
    page.wait_for_selector("#m-photo .verdict.bad")
    assert "413" in page.inner_text("#m-photo .verdict")
    for kind in ("id_card_front", "id_card_back", "certificate", "photo"):
        page.set_input_files(f"#file-{kind}", files[kind])
        page.wait_for_selector(f"#m-{kind} .verdict.ok")

    page.click("#submit")  # attestation not ticked yet: nothing is submitted, every missing item listed
    page.wait_for_selector("#confirm[open]")
    page.click("#confirm-yes")
    page.wait_for_selector("#errors li")
    assert "我保证" in page.inner_text("#errors") or "承诺" in page.inner_text("#errors")

    page.check("#consent_sensitive")
    page.check("#attestation")
    page.click("#submit")
    page.wait_for_selector("#confirm[open]")
    assert "提交后信息不可修改和撤回" in page.inner_text("#confirm")
    page.click("#confirm-yes")
    page.wait_for_selector("text=您的登记申请表已提交，请耐心等待审核结果")
    assert page.is_hidden("#submit")
    page.screenshot(path=str(tmp_path / "submitted.png"), full_page=True)
