"""Drives the sign-in pages in Debian's chromium (its own process: see tests/browser/pw.py).

    python drive_signin.py BASE_URL ANSWERS_FILE SECURITY_PHONE PASSWORD REVIEWER_ID

With JavaScript: from one browser, login codes for five phones go out at once; the sixth asks for
the 图形验证码 first — a wrong answer says how to fix it (看不清可换一张) and brings a new image,
换一张 brings another, the right one sends the code. The same without JavaScript (forms only).
Then the security admin logs in for the first time (enrols TOTP) and resets the reviewer's lost
authenticator on /admin/staff. Every page with JavaScript: axe, no sideways scrolling, a screenshot.
"""
import faulthandler
import pathlib
import sys

from tests.browser.pw import DESKTOP, PHONE, axe, browser, new_page, no_sideways_scroll, shot
from tests.support import staff_signin

SENT = "验证码已发送"


def check(page, name):
    axe(page, name)
    no_sideways_scroll(page, name)
    shot(page, name)


def answer(answers):
    return pathlib.Path(answers).read_text(encoding="utf-8").split()[-1]


def image(page):
    return page.get_attribute("[data-captcha] img", "src")


def send(page, base, phone):
    page.goto(base + "/login")
    page.fill("#f-phone", phone)
    page.click("button[data-send-code]")


def with_javascript(b, base, answers):
    page = new_page(b, DESKTOP)
    for i in range(5):
        send(page, base, f"1370000010{i}")
        page.wait_for_selector(f".live-status:has-text('{SENT}')")
    send(page, base, "13700000105")
    page.wait_for_selector("[data-captcha] img[src^='data:image/png']")
    assert "图形验证码" in page.inner_text(".live-status")
    assert page.evaluate("document.activeElement.name") == "captcha_answer"  # focus goes where the answer is typed
    assert "等待5分钟后可直接获取验证码" in page.inner_text("[data-captcha]")
    check(page, "signin-captcha-desktop")
    first = image(page)
    page.fill("#f-captcha-answer", "0000")  # never right: 0 is not in the alphabet
    page.click("button[data-send-code]")
    page.wait_for_selector(".live-status:has-text('看不清可换一张')")
    second = image(page)
    assert second != first
    page.click("button[data-new-captcha]")
    page.wait_for_function(f"document.querySelector('[data-captcha] img').src !== {second!r}")
    page.fill("#f-captcha-answer", answer(answers))
    page.click("button[data-send-code]")
    page.wait_for_selector(f".live-status:has-text('{SENT}')")
    assert page.locator("[data-captcha]").count() == 0


def without_javascript(b, base, answers):
    page = new_page(b, PHONE, javascript=False)
    for i in range(6):
        page.goto(base + "/login")
        page.fill("#f-phone", f"1370000020{i}")
        page.click("button[name=action][value=send_code]")
        page.wait_for_load_state()
    assert page.locator("[data-captcha] img").count() == 1, page.inner_text("main")
    page.click("button[name=action][value=new_captcha]")
    page.wait_for_load_state()
    page.fill("#f-captcha-answer", answer(answers))
    page.click("button[name=action][value=send_code]")
    page.wait_for_load_state()
    assert SENT in page.inner_text("main") and page.locator("[data-captcha]").count() == 0
    shot(page, "signin-nojs-phone")


def reset_second_factor(b, base, phone, password, reviewer_id):
    page = new_page(b, DESKTOP)
    staff_signin.via_page(page, base, phone, password, look=lambda name: check(page, f"signin-{name}-desktop"))
    assert page.url.endswith("/admin/staff"), page.url
    page.click(f"form[action='/admin/staff/{reviewer_id}/reset-2fa'] button")
    page.wait_for_selector("text=已重置二次验证")
    check(page, "signin-staff-reset-desktop")


def main(base, answers, security_phone, password, reviewer_id):
    faulthandler.dump_traceback_later(400, exit=True)  # a hung driver says where, and does not outlive the test
    with browser() as b:
        with_javascript(b, base, answers)
        without_javascript(b, base, answers)
        reset_second_factor(b, base, security_phone, password, reviewer_id)
    print("sign-in pages: ok")


if __name__ == "__main__":
    main(*sys.argv[1:6])
