"""Drives the reviewer's workbench in Debian's chromium (its own process: see tests/browser/pw.py).

    python drive_review.py desktop|phone BASE_URL PHONE PASSWORD

desktop (1366×900), three submitted applications waiting: log in at /staff/login, read the queue,
open the oldest task, claim it (C), zoom and rotate the photos (keys and buttons), reject it with
per-material reasons (R; an opinion left out is shown at its field), land on the next task, approve
it by keyboard (A twice), which opens (and claims) the third; the queue's filters; release.
phone (390×844), one task held and another one resubmitted after a rejection: "next" (N)
opens the held task; reject it, posting the same form twice (one decision, the same redirect);
approve the resubmission, whose page shows the earlier opinion; the queue is empty. Then the
pages without JavaScript: the queue, a decided task with its photos as full-size links.
Every page with JavaScript: axe (0 serious/critical), no sideways scrolling; every page: a screenshot.
"""
import faulthandler
import re
import sys
from urllib.parse import urlencode

from tests.browser.pw import DESKTOP, PHONE, axe, browser, new_page, no_sideways_scroll, shot
from tests.support import staff_signin

BANNED = ("INTERMEDIATE", "SOCIAL_WORK_AGENCY", "RESIDENT_ID", "BACHELOR", "110105", "id_card_back", "pending",
          "claimed", "FIRST")


def check(page, name):
    axe(page, name)
    no_sideways_scroll(page, name)
    shot(page, name)


def no_codes(page, where):
    text = page.inner_text("main")
    shown = [code for code in BANNED if re.search(rf"(?<![A-Za-z0-9_]){code}(?![A-Za-z0-9_])", text)]
    assert not shown, f"{where} shows codes instead of labels: {shown}"


def photos_loaded(page):
    page.wait_for_function("Array.from(document.querySelectorAll('.photo img'))"
                           ".every(i => i.complete && i.naturalWidth > 0)")


def log_in(page, base, phone, password, size):
    page.goto(base + "/review/")
    assert "/staff/login" in page.url and "next=/review/" in page.url, page.url
    check(page, f"review-staff-login-{size}")
    staff_signin.via_page(page, base, phone, password)
    page.wait_for_url(re.compile(r"/review/$"))


def count(page, state):
    return int(page.inner_text(f"[data-count={state}]"))


def task_id_of(url):
    return re.search(r"/review/tasks/([^?#]+)", url).group(1)


def desktop(page, base):
    assert count(page, "pending") == 3 and count(page, "open") == 3 and count(page, "mine") == 0
    assert page.inner_text("#fig-today").startswith("0")
    assert page.locator("table.queue tbody tr").count() == 3
    no_codes(page, "queue")
    check(page, "review-queue-desktop")

    # Open the oldest task: the form beside the photos, labels not codes; not claimed yet.
    page.locator("table.queue tbody tr").first.locator("a", has_text="打开").click()
    page.wait_for_url(re.compile(r"/review/tasks/"))
    first = task_id_of(page.url)
    photos_loaded(page)
    locked = page.inner_text("#locked-facts")
    assert "张三" in locked and "11010519491231002X" in locked and "社会工作师（中级）" in locked, locked
    typed = page.inner_text("#typed-facts")
    assert "汉族" in typed and "朝阳区" in typed and "社会工作服务机构" in typed, typed
    assert page.locator("#approve").count() == 0
    no_codes(page, "task page")
    check(page, "review-task-desktop")

    page.keyboard.press("c")  # claim
    page.wait_for_url(re.compile(r"m=claimed"))
    page.wait_for_selector("#approve")
    assert "已领取任务" in page.inner_text(".banner")
    photos_loaded(page)

    # Zoom and rotate: keys act on the selected photo, the buttons on their own.
    back = page.locator("#photo-id_card_back")
    page.keyboard.press("Digit2")
    page.keyboard.type("+")
    page.keyboard.type("+")
    assert back.get_attribute("data-zoom") == "2"
    page.keyboard.press("BracketRight")
    assert back.get_attribute("data-rotate") == "90"
    assert "rotate(90deg)" in back.locator("img").evaluate("i => i.style.transform")
    page.keyboard.press("BracketLeft")
    page.keyboard.press("BracketLeft")
    assert back.get_attribute("data-rotate") == "270"
    page.keyboard.press("Minus")
    assert back.get_attribute("data-zoom") == "1.5"
    shot(page, "review-task-zoomed-desktop")
    page.keyboard.press("Digit0")
    assert (back.get_attribute("data-zoom"), back.get_attribute("data-rotate")) == ("1", "0")
    page.locator("#photo-certificate .tools button[data-act=rotate-right]").click()
    assert page.locator("#photo-certificate").get_attribute("data-rotate") == "90"
    check(page, "review-task-claimed-desktop")

    # Reject: R jumps to the reasons of the selected photo (the 国徽面); the second reason by keyboard.
    page.keyboard.press("Digit2")
    page.keyboard.press("r")
    assert page.evaluate("document.activeElement.name") == "reason.id_card_back"
    page.keyboard.press("Tab")
    page.keyboard.press("Space")
    assert page.locator("#photo-id_card_back input[value=wrong_side]").is_checked()
    page.click("#photo-certificate summary")  # the reasons of each photo fold away until needed
    page.fill("#f-reason-text-certificate", "证书编号处反光，请重新拍摄")
    assert "已选择2项" in page.inner_text("#picked")
    assert "已选1项" in page.inner_text("#photo-certificate summary")
    page.click("#reject")  # no opinion: refused, shown at the field, the choices kept
    page.wait_for_selector(".error-summary")
    assert page.locator(".error-summary a[href='#f-opinion']").count() == 1
    assert page.locator("#f-opinion-error").count() == 1
    assert page.locator("#photo-id_card_back input[value=wrong_side]").is_checked()
    assert page.input_value("#f-reason-text-certificate") == "证书编号处反光，请重新拍摄"
    check(page, "review-task-errors-desktop")
    page.fill("#f-opinion", "请按材料问题重新上传身份证国徽面和证书照片")
    page.click("#reject")
    page.wait_for_url(re.compile(r"m=decided"))
    second = task_id_of(page.url)
    assert second != first and "审核结果已提交" in page.inner_text(".banner")
    page.wait_for_selector("#approve")  # the next task, claimed already

    # Approve by keyboard: the first A asks, the second decides; then the next task opens.
    photos_loaded(page)
    page.keyboard.press("a")
    assert "再按一次" in page.inner_text("#confirm-note")
    assert task_id_of(page.url) == second
    page.keyboard.press("a")
    page.wait_for_url(lambda url: "/review/tasks/" in url and task_id_of(url) not in (first, second))
    page.wait_for_selector("#approve")

    page.goto(base + "/review/")
    assert (count(page, "pending"), count(page, "claimed"), count(page, "mine"), count(page, "decided")) == (0, 1, 1, 2)
    assert page.inner_text("#fig-today").startswith("2")
    check(page, "review-queue-worked-desktop")

    # Filters: by waiting time (nothing has waited a day yet), by campaign, and the state tabs.
    page.select_option("#f-waiting", "86400")
    page.click(".filters button[type=submit]")
    page.wait_for_url(re.compile(r"waiting=86400"))
    assert count(page, "all") == 0 and "暂无符合条件的任务" in page.inner_text("main")
    page.click("text=清除筛选")
    campaign = page.locator("#f-campaign option").nth(1).get_attribute("value")
    page.select_option("#f-campaign", campaign)
    page.click(".filters button[type=submit]")
    page.wait_for_url(re.compile(r"campaign="))
    page.click(".tabs a:has-text('已审结')")
    page.wait_for_url(re.compile(r"state=decided.*campaign=|campaign=.*state=decided"))
    assert page.locator("table.queue tbody tr").count() == 2 and count(page, "all") == 3
    assert page.locator("table.queue").inner_text().count("审核通过") == 1

    # Release the task "next" claimed: it goes back to the queue.
    page.click(".tabs a:has-text('我领取的')")
    page.wait_for_url(re.compile(r"state=mine"))
    page.locator("table.queue tbody tr").first.locator("button", has_text="释放").click()
    page.wait_for_url(re.compile(r"m=released"))
    assert "已释放任务" in page.inner_text(".banner")
    assert (count(page, "pending"), count(page, "mine")) == (1, 0)


def phone(page, base):
    assert count(page, "mine") == 1 and count(page, "pending") == 1
    assert "第2次提交" in page.inner_text("table.queue")
    no_codes(page, "queue")
    check(page, "review-queue-phone")

    page.keyboard.press("n")  # the task held since the desktop run comes first
    page.wait_for_url(re.compile(r"/review/tasks/"))
    page.wait_for_selector("#approve")
    photos_loaded(page)
    check(page, "review-task-phone")

    page.click("#photo-photo summary")
    page.locator("#photo-photo label", has_text="照片尺寸不符").click()
    page.fill("#f-opinion", "两寸照片尺寸不符，请上传宽413×高626像素的照片")
    # The same decision posted twice (a double click that got through): one decision, one redirect.
    fields = page.evaluate("""() => {
        const form = document.getElementById('decision-form');
        return Array.from(new FormData(form, document.getElementById('reject')).entries());
    }""")
    url = page.locator("#decision-form").get_attribute("action")
    answers = [page.request.post(base + url, data=urlencode([tuple(f) for f in fields]), max_redirects=0,
                                 headers={"Content-Type": "application/x-www-form-urlencoded"}) for _ in range(2)]
    assert [a.status for a in answers] == [303, 303], [a.text()[:300] for a in answers]
    assert answers[0].headers["location"] == answers[1].headers["location"]
    page.goto(base + answers[0].headers["location"])

    # The resubmission: the earlier opinion on top, approve by keyboard.
    page.wait_for_selector("#approve")
    earlier = page.inner_text(".earlier")
    assert "上传了身份证错误的一面" in earlier and "请按材料问题重新上传身份证国徽面和证书照片" in earlier
    photos_loaded(page)
    check(page, "review-task-resubmission-phone")
    page.keyboard.press("a")
    page.keyboard.press("a")
    page.wait_for_url(re.compile(r"/review/\?"))
    assert "审核结果已提交" in page.inner_text(".banner")
    assert page.locator("table.queue").count() == 0 and "暂无符合条件的任务" in page.inner_text("main")
    assert count(page, "decided") == 3
    check(page, "review-queue-done-phone")


def without_javascript(b, base, phone_number, password):
    page = new_page(b, PHONE, javascript=False)
    page.goto(base + "/staff/login?next=/review/")
    staff_signin.via_page(page, base, phone_number, password)  # the second step works without JavaScript too
    page.wait_for_url(re.compile(r"/review/$"))
    page.click(".tabs a:has-text('已审结')")
    page.wait_for_url(re.compile(r"state=decided"))
    assert page.locator("table.queue tbody tr").count() == 3
    page.locator("table.queue tbody tr").first.locator("a", has_text="打开").click()
    page.wait_for_url(re.compile(r"/review/tasks/"))
    links = page.locator(".viewer a.full")
    assert links.count() == 4
    assert re.search(r"/api/v1/review/tasks/[^/]+/materials/id_card_front$", links.first.get_attribute("href"))
    assert page.locator(".tools").first.is_hidden()
    # axe and the reflow check run scripts in the page, which a context without JavaScript never
    # answers; the same markup was checked above with JavaScript on.
    shot(page, "review-task-nojs-phone")


def main(size, base, phone_number, password):
    faulthandler.dump_traceback_later(400, exit=True)  # a hung driver says where, and does not outlive the test
    with browser() as b:
        page = new_page(b, DESKTOP if size == "desktop" else PHONE)
        log_in(page, base, phone_number, password, size)
        if size == "desktop":
            desktop(page, base)
        else:
            phone(page, base)
            without_javascript(b, base, phone_number, password)
    print(f"review pages at {size}: ok")


if __name__ == "__main__":
    main(*sys.argv[1:5])
