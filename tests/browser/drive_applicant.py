"""Drives the applicant's pages in Debian's chromium, one phase per run, as a person would:

    python drive_applicant.py PHASE BASE_URL VAR_DIR IMAGES_DIR WIDTHxHEIGHT [nojs]

- apply: register (phone → 获取验证码 → code → password), 实名认证, 首登记, save a draft, leave and
  come back, upload (a wrong 1-inch photo first), tick the pledge, confirm, submit.
- resubmit: a new browser (closed and reopened) logs in by keyboard alone, reads the per-material
  reasons, replaces the photo and submits again before the deadline shown.
- approved: reads the registration number, the mailing's carrier and tracking number, 登记历史.
Every page it meets is checked with axe-core (no serious or critical violation) and for sideways
scrolling, and is photographed into SCREENSHOT_DIR when set.
"""
import re
import sys

from pw import axe, browser, code_for, new_page, no_sideways_scroll, shot

PHONE, NAME, ID_NUMBER, PASSWORD = "13800138000", "张三", "11010519491231002X", "Appl1cant-Pass!"


class Person:
    def __init__(self, page, base_url, size, javascript):
        self.page, self.base, self.size, self.js = page, base_url, size, javascript

    def look(self, name):
        if self.js:  # axe-core and the width check run as scripts: only where the page has them
            where = f"{name} ({self.size})"
            axe(self.page, where)
            no_sideways_scroll(self.page, where)
        shot(self.page, f"applicant-{name}-{self.size}{'' if self.js else '-nojs'}")

    def see(self, text):
        self.page.get_by_text(text).first.wait_for()

    def goto(self, path):
        self.page.goto(self.base + path)


def apply(p, var_dir, images):
    page = p.page
    p.goto("/")
    p.see("申请人登录")
    p.look("login")
    page.get_by_role("link", name="注册新账号").click()
    p.see("注册账号")
    p.look("register")
    # The natural order: phone, code, then password — the code is a registration code whatever is filled.
    field(page, "手机号").fill(PHONE)
    page.get_by_role("button", name="获取验证码").click()
    p.see("验证码已发送")
    field(page, "短信验证码").fill(code_for(f"{var_dir}/outbox/sms.jsonl", PHONE))
    field(page, "设置密码").fill(PASSWORD)
    field(page, "再次输入密码").fill(PASSWORD)
    page.get_by_role("button", name="注册", exact=True).click()
    p.see("注册成功，请先完成实名认证")
    p.look("identity")
    field(page, "姓名").fill(NAME)
    field(page, "证件号码").fill(ID_NUMBER.lower())  # a lowercase x is fine
    page.get_by_role("button", name="确认").click()
    p.see("实名认证成功")
    p.look("applications-empty")
    page.get_by_role("button", name="首登记").click()
    p.see("系统关联信息（不可修改）")
    assert "张三" in page.content() and "社会工作师（中级）" in page.content() and "INTERMEDIATE" not in page.inner_text("main")
    p.look("application-new")

    # A half-filled draft is saved, then the person leaves and comes back through the home page.
    field(page, "所学专业").fill("社会工作")
    field(page, "电子邮箱").fill("not-an-email")
    page.get_by_role("button", name="保存", exact=True).click()
    p.see("请修改以下问题")
    summary = page.locator(".error-summary")
    assert "电子邮箱格式不正确" in summary.inner_text()
    summary.get_by_role("link").first.click()  # the summary links to the field
    assert page.evaluate("document.activeElement.id") == "f-email"
    p.look("application-error")
    field(page, "电子邮箱").fill("applicant@example.com")
    page.get_by_role("button", name="保存", exact=True).click()
    p.see("已保存")
    url = page.url.split("?")[0]
    p.goto("/")
    p.see("我的申请")
    p.look("applications-draft")
    page.get_by_role("link", name="继续办理").click()
    assert page.url.split("?")[0] == url
    assert field(page, "所学专业").input_value() == "社会工作"

    fill_form(page)
    # The 1-inch exam photo is refused on the spot with the size seen and the size wanted.
    upload(p, "photo", f"{images}/one_inch.jpg", expect="413×626")
    for kind in ("id_card_front", "id_card_back", "certificate", "photo"):
        upload(p, kind, f"{images}/{kind}.jpg")
    assert page.locator("img.thumb").count() == 4
    p.look("application-filled")
    page.get_by_label("我保证上述所填信息均真实有效").check()
    page.get_by_label("我同意为办理社会工作者登记").check()
    page.get_by_role("button", name="保存并提交…").click()
    p.see("提交后信息不可修改和撤回")
    p.look("submit-confirm")
    page.get_by_role("button", name="确认提交").click()
    p.see("您的登记申请表已提交，请耐心等待审核结果")
    p.look("application-submitted")
    print("APPLICATION", url.rsplit("/", 1)[1])


def field(scope, label):
    """The input labelled exactly `label` (a required one reads “label（必填）” to a screen reader)."""
    return scope.get_by_label(re.compile("^" + re.escape(label) + r"\s*\*?\s*(（必填）)?$"))


def fill_form(page):
    for label, value in (("民族", "汉族"), ("政治面貌", "群众"), ("学历", "大学本科"), ("单位类别", "社会工作服务机构"),
                         ("服务地域", "朝阳区")):
        field(page, label).select_option(label=value)
    for label, value in (("毕业院校", "北京大学"), ("毕业时间", "2015-07"), ("工作单位", "朝阳区阳光社会工作服务中心"),
                         ("职务/岗位", "社工"), ("从事社会工作年限", "5"), ("手机号码", PHONE), ("收件人", NAME),
                         ("收件电话", PHONE), ("省（自治区、直辖市）", "北京市"), ("市", "北京市"), ("区（县）", "朝阳区"),
                         ("详细地址", "建国路88号院3号楼2单元501"), ("邮政编码", "100022")):
        field(page.locator("#application-form"), label).first.fill(value)
    page.get_by_label("社会福利").check()
    page.get_by_role("button", name="保存", exact=True).click()
    page.get_by_text("已保存").first.wait_for()


def upload(p, kind, path, expect="已上传，检查通过"):
    box = p.page.locator(f"#m-{kind}")
    box.locator('input[type="file"]').set_input_files(path)
    if not p.js:
        box.get_by_role("button", name="上传").click()
        box = p.page.locator(f"#m-{kind}")
    box.get_by_text(expect).first.wait_for(timeout=30000)


def tab_to(page, text, limit=80):
    """Press Tab until the focused element reads `text` (a keyboard user's only way around), and
    check that the focus can be seen."""
    # After the page's script has run: it puts the focus on the error summary when there is one, and
    # would otherwise take it back from under the Tab presses (the keys would then go elsewhere).
    page.wait_for_load_state("load")
    for _ in range(limit):
        page.keyboard.press("Tab")
        focused = page.evaluate("""() => { const e = document.activeElement;
            return {text: (e.innerText || e.value || e.getAttribute('aria-label') || '').trim(),
                    label: e.labels && e.labels[0] ? e.labels[0].innerText.trim() : '',
                    outline: getComputedStyle(e).outlineStyle}; }""")
        if text in (focused["text"], focused["label"]) or focused["label"].startswith(text):
            assert focused["outline"] != "none", f"focus on {text!r} is not visible"
            return
    raise AssertionError(f"{text!r} cannot be reached with Tab")


def resubmit(p, var_dir, images):
    """The whole resubmission by keyboard alone, from a browser that was closed in between."""
    page = p.page
    p.goto("/applications")  # a bookmark: not logged in → the login page, then straight back
    p.see("申请人登录")
    tab_to(page, "手机号")
    page.keyboard.type(PHONE)
    tab_to(page, "密码")
    page.keyboard.type(PASSWORD)
    page.keyboard.press("Enter")  # Enter logs in (not “获取验证码”)
    p.see("我的申请")
    p.see("按审核意见修改后重新提交")
    tab_to(page, "继续办理")
    page.keyboard.press("Enter")
    p.see("审核结果：审核不通过")
    p.see("两寸免冠照片")
    p.see("请根据审核意见修改后再次提交")
    p.look("application-rejected")
    tab_to(page, "重新选择两寸免冠照片图片")
    with page.expect_file_chooser() as chooser:
        page.keyboard.press("Enter")
    chooser.value.set_files(f"{images}/photo2.jpg")
    page.locator("#m-photo").get_by_text("已上传，检查通过").wait_for(timeout=30000)
    page.locator("#f-major").focus()  # back into the form, as Shift+Tab would
    tab_to(page, "保存并提交…")
    page.keyboard.press("Enter")
    p.see("提交后信息不可修改和撤回")
    tab_to(page, "确认提交")
    page.keyboard.press("Enter")
    p.see("您的登记申请表已提交")
    p.see("第2次提交")


def approved(p, var_dir, images):
    page = p.page
    p.goto("/login")
    field(page, "手机号").fill(PHONE)
    field(page, "密码").fill(PASSWORD)
    page.get_by_role("button", name="登录", exact=True).click()
    p.see("我的申请")
    page.get_by_role("link", name="查看").click()
    p.see("审核结果：审核通过")
    p.see("登记证号")
    p.see("运单号")
    p.see("SF1234567890")
    p.look("application-dispatched")
    page.get_by_role("link", name="登记历史").first.click()
    p.see("第1次提交")
    p.see("第2次提交")
    p.look("history")
    page.get_by_role("link", name="操作手册").click()
    p.see("身份证国徽面")
    p.look("help")
    # WCAG 1.4.10 reflow: at 320 CSS px wide (a phone, or a desktop at 400 % zoom) nothing scrolls sideways.
    page.set_viewport_size({"width": 320, "height": 640})
    for path in ("/applications", page_of(page, "/applications"), "/help", "/feedback"):
        p.goto(path)
        no_sideways_scroll(page, f"{path} at 320px")


def page_of(page, path):
    """The first application's page, as linked from 我的申请."""
    page.goto(page.url.split("/", 3)[0] + "//" + page.url.split("/", 3)[2] + path)
    return page.get_by_role("link", name="查看").first.get_attribute("href")


def main(phase, base_url, var_dir, images, size, *flags):
    width, height = map(int, size.split("x"))
    javascript = "nojs" not in flags
    with browser() as b:
        page = new_page(b, {"width": width, "height": height}, javascript=javascript)
        person = Person(page, base_url, size, javascript)
        {"apply": apply, "resubmit": resubmit, "approved": approved}[phase](person, var_dir, images)


if __name__ == "__main__":
    main(*sys.argv[1:])
