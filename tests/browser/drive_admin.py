"""Drives the admin console and the auditor's log in Debian's chromium (its own process, see pw.py).

    python drive_admin.py BASE_URL SMS_JSONL ADMIN_PHONE AUDITOR_PHONE PASSWORD ROSTER_CSV MAILING_CSV
                          REGISTRATION_NUMBER APPLICATION_ID

At 1366×900 the admin logs in (password + SMS code), then at both sizes: creates a campaign, edits
its window, imports the roster and reads the refused rows, dispatches (the form at desktop size, a
spreadsheet at phone size), reads the report, exports, staff, notifications, feedback — every page
axe-clean, no sideways scrolling, a screenshot each. The auditor logs in, filters the audit log by
application, and is refused the admin pages; the admin is refused the audit log. Prints, last, the
numbers each chart drew as JSON.
"""
import json
import sys

from pw import DESKTOP, PHONE, axe, browser, new_page, no_sideways_scroll, shot

from tests.support import staff_signin

SIZES = (("desktop", DESKTOP), ("phone", PHONE))


def check(page, name, size):
    where = f"{name} at {size}"
    axe(page, where)
    no_sideways_scroll(page, where)
    shot(page, f"admin-{name}-{size}")


def log_in(page, base, sms, phone, password, size="desktop"):
    """First login: password, the QR page, the recovery codes (each checked: axe, no sideways scroll)."""
    staff_signin.via_page(page, base, phone, password, look=lambda name: check(page, name, size))


def chart_values(page, chart_id):
    marks = page.locator(f"#{chart_id} rect.mark")
    return {marks.nth(i).get_attribute("data-key"): int(marks.nth(i).get_attribute("data-value"))
            for i in range(marks.count())}


def admin_path(b, base, sms, phone, password, roster, mailing, number, cookies):
    drawn = {}
    for size, viewport in SIZES:
        page = new_page(b, viewport)
        if cookies:
            page.context.add_cookies(cookies)
        else:
            log_in(page, base, sms, phone, password, size)
            assert page.url.endswith("/admin/"), page.url
            cookies.extend(page.context.cookies())
        page.goto(base + "/admin/")
        page.wait_for_selector("h1:has-text('管理后台')")
        check(page, "home", size)

        # a campaign: created, then its window moved
        page.goto(base + "/admin/campaigns/new")
        page.click("button:has-text('创建')")  # nothing filled: every problem named at its field
        page.wait_for_selector(".error-summary")
        assert page.locator("#f-name-error").count() == 1
        check(page, "campaign-errors", size)
        name = f"2021年再登记（{size}）"
        page.fill("#f-name", name)
        page.select_option("#f-kind", "RENEWAL")
        page.fill("#f-eligible-exam-years", "2017")
        page.fill("#f-opens-at", "2021-03-01T00:00")
        page.fill("#f-closes-at", "2021-03-31T00:00")
        page.click("button:has-text('创建')")
        page.wait_for_selector("text=已创建")
        assert name in page.inner_text("main")
        check(page, "campaigns", size)
        page.locator("tr", has_text=name).locator("a:has-text('修改时间')").click()
        page.fill("#f-closes-at", "2021-04-16T00:00")
        page.check("#f-allow-resubmit-after-close")
        page.click("button:has-text('保存')")
        page.wait_for_selector("text=登记批次已保存")
        assert "2021年4月15日24:00" in page.inner_text("main")
        check(page, "campaign-edit", size)

        # the roster: one row in, two refused with their reasons in a table
        page.goto(base + "/admin/roster")
        page.set_input_files("#f-file", str(roster))
        page.click("button:has-text('导入')")
        page.wait_for_selector("#refused-rows")
        rows = page.locator("#refused-rows tbody tr")
        assert rows.count() == 2, page.inner_text("#refused-rows")
        assert "第3行" in rows.nth(0).inner_text() and "第4行" in rows.nth(1).inner_text()
        assert page.inner_text("[data-count=refused]") == "2"
        check(page, "roster-report", size)

        # dispatch: by the form at desktop size, by spreadsheet on the phone
        page.goto(base + "/admin/dispatch")
        if size == "desktop":
            row = page.locator("form.dispatch-row", has_text=number)
            row.locator("button:has-text('登记寄出')").click()  # no tracking number: refused at the field
            page.wait_for_selector(".error-summary")
            check(page, "dispatch-error", size)
            row = page.locator("form.dispatch-row", has_text=number)
            row.locator("input[name=tracking_number]").fill("1190001234567")
            row.locator("button:has-text('登记寄出')").click()
            page.wait_for_selector("text=已登记邮寄信息")
            assert number not in page.inner_text("main")
        else:
            page.set_input_files("#f-file", str(mailing))
            page.click("button:has-text('导入寄送信息')")
            page.wait_for_selector("#dispatched-count")
            assert page.inner_text("#dispatched-count") == "1"
            assert "第3行" in page.inner_text("#dispatch-refused")
        check(page, "dispatch", size)

        page.goto(base + "/admin/reports")
        page.wait_for_selector("#chart-states")
        for chart in ("chart-per-day", "chart-states", "chart-reasons", "chart-throughput"):
            drawn[chart] = chart_values(page, chart)
        check(page, "reports", size)

        for name, path in (("exports", "/admin/exports"), ("staff", "/admin/staff"),
                           ("notifications", "/admin/notifications?state=delivered"), ("feedback", "/admin/feedback")):
            response = page.goto(base + path)
            assert response.status == 200, (path, response.status)
            check(page, name, size)
        if size == "desktop":
            resolve_feedback(page)
            check(page, "feedback-resolved", size)
        assert page.goto(base + "/admin/audit").status == 403  # 三员分立: not the admin's
        page.context.close()
    return drawn


def resolve_feedback(page):
    """The one open feedback: refused without a note, then resolved, and listed under 已处理."""
    assert "考试年度有误" in page.inner_text("main")
    page.click("button:has-text('标记为已处理')")
    page.wait_for_selector("text=请填写处理说明（申请人会看到）")
    page.fill("textarea[name=note]", "已更正考试年度，请重新办理")
    page.click("button:has-text('标记为已处理')")
    page.wait_for_selector("text=没有待处理的反馈。")
    page.goto(page.url.split("/admin/")[0] + "/admin/feedback?state=RESOLVED")
    assert "处理说明：已更正考试年度，请重新办理" in page.inner_text("main")


def auditor_path(b, base, sms, phone, password, application_id):
    cookies = []
    for size, viewport in SIZES:
        page = new_page(b, viewport)
        if cookies:
            page.context.add_cookies(cookies)
        else:
            log_in(page, base, sms, phone, password, size)
            assert page.url.endswith("/admin/audit"), page.url
            cookies.extend(page.context.cookies())
        page.goto(base + "/admin/audit")
        page.wait_for_selector("#audit-entries")
        check(page, "audit", size)
        page.fill("#f-application-id", application_id)
        page.click("button:has-text('筛选')")
        page.wait_for_selector("#audit-entries")
        actions = page.locator("#audit-entries tbody tr").evaluate_all("rows => rows.map(r => r.dataset.action)")
        assert {"task.decided", "task.viewed", "task.claimed", "record_dispatch"} <= set(actions), actions
        check(page, "audit-filtered", size)
        for path in ("/admin/", "/admin/reports", "/admin/campaigns", "/admin/staff"):
            response = page.goto(base + path)
            assert response.status in (403, 303) or page.url.endswith("/admin/audit"), (path, response.status)
            if not page.url.endswith("/admin/audit"):
                assert response.status == 403 and "没有权限" in page.inner_text("main"), path
        page.context.close()


def main(base, sms, admin_phone, auditor_phone, password, roster, mailing, number, application_id):
    with browser() as b:
        drawn = admin_path(b, base, sms, admin_phone, password, roster, mailing, number, [])
        auditor_path(b, base, sms, auditor_phone, password, application_id)
    print(json.dumps(drawn, ensure_ascii=False))


if __name__ == "__main__":
    main(*sys.argv[1:10])
