"""The notify service on the real broker and database, with stand-ins of identity and registration:
codes by RPC, a message per event kind (SMS text and email copy), once per event, quiet hours,
the operations RPCs."""
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import func, select, update

from services.common import clock, deadletters, metrics
from services.contracts.errors import Conflict, NotFound, ValidationFailed
from services.notify.models import DeliveryAttempt, Notification
from tests.support.infra import dependency, queue_depth, wait_for

from . import peers
from .peers import LONG_NAME, Directory

pytestmark = pytest.mark.integration

BEIJING = clock.BEIJING


def consumed(event_type, outcome="ok"):
    return metrics.EVENTS_CONSUMED.labels("notify", event_type, outcome)._value.get()


def rows(system, model=Notification):
    with system.db.engine.connect() as conn:
        return conn.execute(select(model)).all()


def body_of(email):
    return email.get_body(("plain",)).get_content()


# --- codes ----------------------------------------------------------------------------------------
def test_send_code_writes_the_sms_at_once_and_records_it(notify_system):
    system = notify_system()
    expires = clock.now() + timedelta(minutes=5)
    answer = system.call("send_code", "138 1234 5678", "604318", "register", expires.isoformat())
    assert answer["state"] == "delivered"
    [sms] = system.sms()
    assert sms["to"] == "13812345678" and sms["notification_id"] == answer["notification_id"]
    assert sms["body"] == ("【北京社会工作者协会】您正在注册社工人才服务系统账号，验证码：604318，"
                           "5分钟内有效，请勿泄露。")
    [row] = system.notifications("delivered", id=answer["notification_id"])
    assert row["recipient_masked"] == "138****5678" and row["kind"] == "verification_code"
    assert row["template"] == "verification_code.sms.j2" and row["cause_event_id"] is None
    assert [a["outcome"] for a in row["delivery_attempts"]] == ["delivered"]
    assert "604318" not in str(row)  # staff see no code
    [stored] = rows(system)
    assert "604318" not in stored.body_enc and "13812345678" not in stored.recipient_enc
    system.wait_outcome("NotificationDelivered", notification_id=answer["notification_id"],
                        template="verification_code", recipient_masked="138****5678", attempts=1)

    # the same RPC retried by identity is the same message, not a second SMS
    again = system.call("send_code", "13812345678", "604318", "register", expires.isoformat())
    assert again == {"notification_id": answer["notification_id"], "state": "delivered"}
    assert len(system.sms()) == 1


def test_send_code_refuses_bad_input_and_never_sends_an_expired_code(notify_system):
    system = notify_system()
    with pytest.raises(ValidationFailed) as refused:
        system.call("send_code", "13812345678", "604318", "hack", "2020-07-03T10:00:00+08:00")
    assert "purpose" in refused.value.details
    with pytest.raises(ValidationFailed):
        system.call("send_code", "13812345678", "604318", "login", "tomorrow")
    expired = (clock.now() - timedelta(seconds=1)).isoformat()
    answer = system.call("send_code", "13812345678", "111111", "login", expired)
    assert answer["state"] == "failed"
    assert system.sms() == []
    [failed] = system.wait_outcome("NotificationFailed", notification_id=answer["notification_id"])
    assert failed["data"]["attempts"] == 0 and "过期" in failed["data"]["reason"]


# --- one message per event kind ---------------------------------------------------------------------
def test_account_registered_sends_the_welcome_sms(notify_system):
    system = notify_system()
    event = system.emit("AccountRegistered", "acc-1", peers.account_registered("acc-1"))
    [sms] = system.wait_sms(to="13812345678")
    assert sms["body"] == ("【北京社会工作者协会】您已成功注册社工人才服务系统账号（手机号138****5678），"
                           "请登录后完成实名认证，再办理证书登记。")
    [row] = system.notifications("delivered")
    assert row["cause_event_id"] == event["id"] and row["cause_event_type"] == "AccountRegistered"
    assert system.emails() == []  # no address known for an account
    assert ("identity", "acc-1") in Directory.calls


def test_submission_receipt_goes_by_sms_to_the_account_phone_and_by_email_to_the_form_address(notify_system):
    system = notify_system()
    system.emit("ApplicationSubmitted", "app-1", peers.application_submitted("app-1"))
    [sms] = system.wait_sms(to="13812345678")  # the account's phone, not the form's mobile
    assert sms["body"] == ("【北京社会工作者协会】您的登记申请表已提交，请耐心等待审核结果。"
                           "提交时间：2020年7月3日 10:15。审核结果将短信通知您。")
    [email] = system.wait_emails()
    assert email["To"] == "maimaiti@example.com"
    assert email["Subject"] == "您的登记申请表已提交"
    assert "您的登记申请表已提交，请耐心等待审核结果。" in body_of(email)
    assert "提交时间：2020年7月3日 10:15（北京时间）" in body_of(email)
    system.wait_outcome("NotificationDelivered", count=2)
    channels = sorted(e["data"]["channel"] for e in system.outcomes())
    assert channels == ["email", "sms"]
    assert {e["data"]["recipient_masked"] for e in system.outcomes()} == {"138****5678", "m***@example.com"}


def test_submission_without_email_on_the_form_sends_sms_only_and_counts_the_attempt(notify_system):
    system = notify_system()
    system.emit("ApplicationSubmitted", "app-2", peers.application_submitted("app-2", "acc-2", attempt=2))
    [sms] = system.wait_sms(to="15098765432")
    assert "（第2次提交）" in sms["body"]
    system.wait_outcome("NotificationDelivered")
    assert system.emails() == []


def test_rejection_tells_the_opinion_each_material_and_the_deadline(notify_system):
    system = notify_system()
    system.emit("ReviewCompleted", "app-1", peers.review_completed("app-1", decision="rejected"))
    [sms] = system.wait_sms(to="13812345678")
    assert sms["body"] == (
        "【北京社会工作者协会】您的社会工作者职业水平证书登记申请未通过审核。"
        "审核意见：两寸照片不符合要求，身份证反面不清晰。两寸免冠照片：照片背景有杂物，请上传免冠正面照；"
        "身份证国徽面：图片模糊，看不清有效期。请于2020年7月31日 23:59（北京时间）前登录社工人才服务网修改后重新提交。")
    [email] = system.wait_emails()
    assert email["Subject"] == "您的社会工作者职业水平证书登记申请未通过审核"
    text = body_of(email)
    assert "审核意见：两寸照片不符合要求，身份证反面不清晰" in text
    assert "1. 两寸免冠照片：照片背景有杂物，请上传免冠正面照" in text
    assert "2. 身份证国徽面：图片模糊，看不清有效期" in text
    assert "请于2020年7月31日 23:59（北京时间）前" in text


def test_rejection_without_a_resubmission_deadline(notify_system):
    system = notify_system()
    system.emit("ReviewCompleted", "app-2", peers.review_completed("app-2", decision="rejected"))
    [sms] = system.wait_sms(to="15098765432")
    assert sms["body"].endswith("请登录社工人才服务网修改后重新提交。") and "请于" not in sms["body"]


def test_approval_by_review_says_nothing_registration_completed_says_it(notify_system):
    system = notify_system()
    before = consumed("ReviewCompleted")
    system.emit("ReviewCompleted", "app-1", peers.review_completed("app-1", decision="approved"))
    wait_for(lambda: consumed("ReviewCompleted") == before + 1, message="approval handled")
    assert system.sms() == [] and rows(system) == []

    system.emit("RegistrationCompleted", "app-1", peers.registration_completed("app-1"))
    [sms] = system.wait_sms(to="13812345678")
    assert sms["body"] == (f"【北京社会工作者协会】{LONG_NAME}，您的社会工作者职业水平证书登记已审核通过，"
                           f"登记号：BJ2020-SG-000123。证书将邮寄给{LONG_NAME}，地址：北京市朝阳区建国路8****，"
                           "请保持电话畅通。")
    assert "SOHO" not in sms["body"] and "1201" not in sms["body"]  # the address is masked
    [email] = system.wait_emails()
    assert email["Subject"] == "您的社会工作者职业水平证书登记已审核通过"
    assert "登记号：BJ2020-SG-000123" in body_of(email) and "地址：北京市朝阳区建国路8****" in body_of(email)


def test_dispatch_names_carrier_and_tracking_number(notify_system):
    system = notify_system()
    system.emit("CertificateDispatched", "app-1", peers.certificate_dispatched("app-1"))
    [sms] = system.wait_sms(to="13812345678")
    assert sms["body"] == ("【北京社会工作者协会】您的证书（登记号BJ2020-SG-000123）已由中国邮政EMS寄出，"
                           "运单号：1187654321098，请查收。")
    [email] = system.wait_emails()
    assert email["Subject"] == "您的社会工作者职业水平证书已寄出"
    text = body_of(email)
    assert "快递公司：中国邮政EMS" in text and "运单号：1187654321098" in text
    assert "已于2020年8月10日 09:30（北京时间）寄出" in text


def test_a_late_rejection_of_an_earlier_attempt_is_not_sent(notify_system):
    system = notify_system()
    system.emit("ApplicationSubmitted", "app-2", peers.application_submitted("app-2", "acc-2", attempt=2))
    system.wait_sms(to="15098765432")
    before = consumed("ReviewCompleted")
    system.emit("ReviewCompleted", "app-2", peers.review_completed("app-2", attempt=1))  # replayed late
    wait_for(lambda: consumed("ReviewCompleted") == before + 1, message="stale review handled")
    assert len(system.sms()) == 1


# --- once per event ---------------------------------------------------------------------------------
def test_an_event_delivered_twice_sends_once(notify_system):
    system = notify_system()
    before = consumed("ApplicationSubmitted")
    event = system.emit("ApplicationSubmitted", "app-1", peers.application_submitted("app-1"))
    system.wait_sms(to="13812345678")
    system.wait_emails()
    # the files exist before the handler returns and is counted: wait for the count, not the files
    handled = before + 1
    wait_for(lambda: consumed("ApplicationSubmitted") == handled, message="the first delivery handled")
    # registration's relay crashed after publishing, before marking the row sent: it publishes again
    db = dependency(system.peers["registration"], "db")
    outbox = db.metadata.tables["outbox"]

    def marked_sent():  # the relay marks the row after the broker confirms: wait for that first
        with db.engine.connect() as conn:
            return conn.execute(select(outbox.c.sent_at).where(outbox.c.event_id == event["id"])).scalar()
    wait_for(marked_sent, message="the first publication marked sent")
    with db.engine.begin() as conn:
        conn.execute(update(outbox).where(outbox.c.event_id == event["id"]).values(sent_at=None))
    db.wake_relay()
    wait_for(lambda: consumed("ApplicationSubmitted") == handled + 1, message="the duplicate handled")
    assert len(system.sms()) == 1 and len(system.emails()) == 1
    assert len(rows(system)) == 2
    # the outcomes travel through notify's own outbox: wait for them, then make sure no third comes
    notify_db = dependency(system.notify, "db")
    notify_outbox = notify_db.metadata.tables["outbox"]

    def notify_outbox_drained():  # every outcome row confirmed, so already in the test's queue
        with notify_db.engine.connect() as conn:
            return conn.execute(select(func.count()).select_from(notify_outbox)
                                .where(notify_outbox.c.sent_at.is_(None))).scalar() == 0
    wait_for(notify_outbox_drained, message="notify's outbox drained")
    assert len(system.outcomes()) == 2


# --- quiet hours -------------------------------------------------------------------------------------
def test_quiet_hours_hold_a_receipt_until_eight_in_the_morning_but_not_a_code(notify_system, frozen_clock):
    late_evening = datetime(2020, 7, 3, 23, 30, tzinfo=BEIJING)
    frozen_clock(late_evening.astimezone(timezone.utc))
    system = notify_system(NOTIFY_QUIET_HOURS="22:00-08:00")
    system.emit("ApplicationSubmitted", "app-1", peers.application_submitted("app-1"))
    held = system.wait_state("queued", count=2)
    morning = datetime(2020, 7, 4, 8, 0, tzinfo=BEIJING)
    assert {row["release_at"] for row in held} == {clock.iso(morning)}
    assert {row["attempts"] for row in held} == {0}

    code = system.call("send_code", "15098765432", "604318", "login",
                       (late_evening + timedelta(minutes=5)).isoformat())
    assert code["state"] == "delivered"  # a code is asked for by the person holding the phone
    assert [m["to"] for m in system.sms()] == ["15098765432"]

    frozen_clock((morning - timedelta(seconds=1)).astimezone(timezone.utc))
    system.timer_ticks(2)  # one whole run with the clock at 07:59:59
    assert [m["to"] for m in system.sms()] == ["15098765432"] and system.emails() == []

    frozen_clock(morning.astimezone(timezone.utc))
    [receipt] = system.wait_sms(to="13812345678")
    assert "您的登记申请表已提交" in receipt["body"]
    system.wait_emails()
    assert system.notifications("queued") == []


# --- operations ----------------------------------------------------------------------------------------
def test_operators_list_what_failed_and_resend_it(notify_system):
    system = notify_system()
    system.emit("ApplicationSubmitted", "app-1", peers.application_submitted("app-1"))
    system.wait_outcome("NotificationDelivered", count=2)
    # the email failed, as a refused mailbox leaves it
    with system.db.engine.begin() as conn:
        conn.execute(update(Notification).where(Notification.channel == "email")
                     .values(state="failed", failure_reason="邮件服务器拒绝（RCPT TO：550 no such user）"))
    [failed] = system.call("list_notifications")  # by default: what needs attention
    assert failed["channel"] == "email" and failed["recipient_masked"] == "m***@example.com"
    assert failed["failure_reason"].startswith("邮件服务器拒绝")
    assert [row["channel"] for row in system.call("list_notifications", "delivered")] == ["sms"]

    answer = system.call("resend", failed["id"])
    assert answer["resend_of"] == failed["id"] and answer["state"] == "delivered"
    emails = system.wait_emails(2)
    assert [e["Subject"] for e in emails] == ["您的登记申请表已提交"] * 2
    [resent] = system.notifications("delivered", id=answer["notification_id"])
    assert resent["resend_of"] == failed["id"] and resent["attempts"] == 1

    # a message still waiting is not resent (nor one whose resend is still waiting)
    with system.db.engine.begin() as conn:
        conn.execute(update(Notification).where(Notification.id == answer["notification_id"])
                     .values(state="queued", next_attempt_at=clock.now() + timedelta(days=1)))
    for notification_id, code in ((answer["notification_id"], "notification_pending"),
                                  (failed["id"], "resend_pending")):
        with pytest.raises(Conflict) as refused:
            system.call("resend", notification_id)
        assert refused.value.code == code
    with pytest.raises(NotFound):
        system.call("resend", "no-such-id")
    with pytest.raises(ValidationFailed):
        system.call("list_notifications", "lost")
    with pytest.raises(ValidationFailed):
        system.call("list_notifications", None, 0)
    code = system.call("send_code", "13812345678", "123456", "login",
                       (clock.now() + timedelta(minutes=5)).isoformat())
    with pytest.raises(Conflict) as refused:
        system.call("resend", code["notification_id"])
    assert refused.value.code == "code_not_resendable"
    assert len(system.emails()) == 2


def test_metrics_per_channel(notify_system):
    system = notify_system()
    system.emit("ApplicationSubmitted", "app-1", peers.application_submitted("app-1"))
    system.wait_outcome("NotificationDelivered", count=2)
    system.timer_ticks(1)
    with system.rpc() as cluster:
        text = cluster.notify.metrics()
    for line in ('notifications_sent_total{channel="sms"}', 'notifications_sent_total{channel="email"}',
                 'notifications_retry_backlog{channel="sms"} 0.0', 'notification_provider_latency_seconds_count{channel="email"}'):
        assert line in text, line


# --- failures of our own ------------------------------------------------------------------------------
def test_a_send_interrupted_by_a_dying_process_is_taken_back_and_retried(notify_system, frozen_clock):
    evening = datetime(2020, 7, 3, 23, 0, tzinfo=BEIJING)
    frozen_clock(evening.astimezone(timezone.utc))
    system = notify_system(NOTIFY_QUIET_HOURS="22:00-08:00", NOTIFY_SENDING_LEASE_SECONDS=60)
    system.emit("AccountRegistered", "acc-1", peers.account_registered("acc-1"))
    [held] = system.wait_state("queued")
    # what a process leaves behind when it dies between claiming and recording: sending, attempt open
    with system.db.engine.begin() as conn:
        conn.execute(update(Notification).where(Notification.id == held["id"])
                     .values(state="sending", attempts=1, updated_at=clock.now()))
        conn.execute(DeliveryAttempt.__table__.insert().values(
            notification_id=held["id"], number=1, started_at=clock.now()))
    system.timer_ticks(2)
    assert system.notifications("sending", id=held["id"])  # within the lease: left alone
    frozen_clock(datetime(2020, 7, 4, 8, 5, tzinfo=BEIJING).astimezone(timezone.utc))
    [retrying] = system.wait_state("queued", id=held["id"])  # taken back: a retry, after backoff
    assert retrying["attempts"] == 1 and system.sms() == []
    frozen_clock(datetime(2020, 7, 4, 8, 6, tzinfo=BEIJING).astimezone(timezone.utc))
    system.wait_sms(to="13812345678")
    [row] = system.wait_state("delivered", id=held["id"])
    assert [a["outcome"] for a in row["delivery_attempts"]] == ["temporary", "delivered"]
    assert "发送中断" in row["delivery_attempts"][0]["provider_answer"]


def test_an_event_whose_contact_cannot_be_found_goes_to_the_dead_letter_queue(notify_system):
    system = notify_system(EVENT_MAX_ATTEMPTS=2)
    system.emit("AccountRegistered", "acc-404", peers.account_registered("acc-404"))
    dlq = "notify.AccountRegistered.dlq"
    wait_for(lambda: queue_depth(system.config["AMQP_URI"], dlq) == 1, message="dead letter")
    [letter] = deadletters.list_letters(system.config["AMQP_URI"], dlq)
    assert "account_not_found" in letter["error"]
    Directory.phones["acc-404"] = "13700001111"  # the account appears: replay delivers
    assert deadletters.replay(system.config["AMQP_URI"], dlq) == 1
    [sms] = system.wait_sms(to="13700001111")
    assert "您已成功注册" in sms["body"]


# --- the phone kept per account ---------------------------------------------------------------------
def test_the_phone_given_at_registration_spares_identity_later_and_is_encrypted_at_rest(notify_system):
    from services.notify.models import PHONE, AccountPhone
    system = notify_system()
    system.emit("AccountRegistered", "acc-1", peers.account_registered("acc-1"))
    system.wait_sms(to="13812345678")
    system.wait_outcome("NotificationDelivered")
    [kept] = rows(system, AccountPhone)
    assert kept.account_id == "acc-1" and "13812345678" not in kept.phone_enc
    assert system.db.cipher.decrypt(kept.phone_enc, PHONE) == "13812345678"
    Directory.calls.clear()
    system.emit("ApplicationSubmitted", "app-1", peers.application_submitted("app-1"))
    system.emit("RegistrationCompleted", "app-1", peers.registration_completed("app-1"))
    system.wait_sms(to="13812345678", containing="已提交")
    system.wait_sms(to="13812345678", containing="BJ2020-SG-000123")
    assert ("identity", "acc-1") not in Directory.calls  # the kept phone
    assert Directory.calls.count(("registration", "app-1")) == 2  # the application's contact: every time


def test_the_applications_contact_is_asked_afresh_on_every_submission(notify_system):
    """Only the account's phone is kept: a form changed between attempts sends to its new address."""
    system = notify_system()
    system.emit("ApplicationSubmitted", "app-1", peers.application_submitted("app-1", attempt=1))
    system.wait_emails(1)
    Directory.applications["app-1"] = {**Directory.applications["app-1"], "email": "new@example.com"}
    system.emit("ApplicationSubmitted", "app-1", peers.application_submitted("app-1", attempt=2))
    emails = system.wait_emails(2)
    assert sorted(e["To"] for e in emails) == ["maimaiti@example.com", "new@example.com"]
    assert Directory.calls.count(("identity", "acc-1")) == 1  # asked once, kept from the first event
    assert len(system.sms(to="13812345678")) == 2
