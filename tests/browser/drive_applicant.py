"""Drives the applicant page in Debian's chromium (Playwright, its own process: Playwright's
teardown hangs under eventlet's monkey patching, which the test process needs for the services).

    python drive_applicant.py BASE_URL SMS_JSONL IMAGES_DIR SCREENSHOT
"""
import json
import re
import sys
import time

from playwright.sync_api import sync_playwright

PHONE, NAME, ID_NUMBER = "13800138000", "张三", "11010519491231002X"


def code_for(sms_path, phone):
    deadline = time.time() + 30
    while time.time() < deadline:
        try:
            lines = open(sms_path, encoding="utf-8").read().splitlines()
        except FileNotFoundError:
            lines = []
        for line in reversed(lines):
            m = json.loads(line)
            found = re.search(r"(?<!\d)(\d{6})(?!\d)", m["body"])
            if m["to"] == phone and "验证码" in m["body"] and found:
                return found.group(1)
        time.sleep(0.1)
    raise AssertionError("no SMS code")


def main(base_url, sms_path, images_dir, screenshot):
    files = {k: f"{images_dir}/{k}.jpg" for k in ("id_card_front", "id_card_back", "certificate", "photo",
                                                  "one_inch")}
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=[
            "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
            "--disable-component-update", "--disable-sync"])
        page = browser.new_page(viewport={"width": 390, "height": 844}, locale="zh-CN")
        page.goto(base_url + "/")
        page.fill("#phone", PHONE)
        page.fill("#password", "Appl1cant-Pass!")
        page.click("#send-code")
        page.wait_for_selector("text=验证码已发送")
        assert "秒后重新获取" in page.inner_text("#send-code") or page.is_disabled("#send-code")
        page.fill("#code", code_for(sms_path, PHONE))
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
        page.screenshot(path=screenshot, full_page=True)
        browser.close()
    print("ok")


if __name__ == "__main__":
    main(*sys.argv[1:5])
