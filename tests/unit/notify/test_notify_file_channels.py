import json
import os
import subprocess
import sys
import threading
from datetime import datetime, timezone
from email import policy
from email.parser import BytesParser
from pathlib import Path

import pytest

from services.common import clock
from services.notify.adapters import FileEmailChannel, FileSmsChannel, OutgoingMessage

ROOT = Path(__file__).resolve().parents[3]
LONG_BODY = "【北京社会工作者协会】买买提·艾力·阿不都热合曼，您的证书已寄出。" * 120  # > PIPE_BUF


@pytest.fixture
def frozen_clock():
    clock.set_now(datetime(2020, 7, 3, 2, 15, tzinfo=timezone.utc))
    yield
    clock.set_now(None)


def sms(n=1, body="【北京社会工作者协会】验证码：604318，5分钟内有效，请勿泄露。"):
    return OutgoingMessage(channel="sms", recipient="13812345678", subject=None, body=body,
                           template="verification_code", notification_id=f"n-{n}")


def email(n=1):
    return OutgoingMessage(channel="email", recipient="zhang@example.com", subject="您的登记申请表已提交",
                           body="您好：\n\n您的登记申请表已提交，请耐心等待审核结果。", template="submission_receipt",
                           notification_id=f"n-{n}")


def test_file_sms_appends_one_json_line(tmp_path, frozen_clock):
    path = tmp_path / "outbox" / "sms.jsonl"
    result = FileSmsChannel(path).send(sms())
    (line,) = path.read_text(encoding="utf-8").splitlines()
    record = json.loads(line)
    assert record == {"id": result.provider_message_id, "to": "13812345678", "body": sms().body,
                      "template": "verification_code", "at": "2020-07-03T10:15:00.000+08:00",
                      "notification_id": "n-1"}
    assert "请勿泄露" in line  # readable Chinese, not \\u escapes


WRITER = """
import sys
from services.notify.adapters import FileSmsChannel, OutgoingMessage
channel = FileSmsChannel(sys.argv[1])
for i in range(int(sys.argv[3])):
    channel.send(OutgoingMessage("sms", "13812345678", None, sys.argv[4], "dispatched", f"{sys.argv[2]}-{i}"))
"""


def test_file_sms_survives_concurrent_processes_and_threads(tmp_path):
    path = tmp_path / "sms.jsonl"
    processes = [subprocess.Popen([sys.executable, "-c", WRITER, str(path), f"p{p}", "40", LONG_BODY],
                                  cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)})
                 for p in range(4)]
    channel = FileSmsChannel(path)
    threads = [threading.Thread(target=lambda t=t: [channel.send(sms(f"t{t}-{i}", LONG_BODY)) for i in range(40)])
               for t in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert [p.wait(timeout=60) for p in processes] == [0] * 4
    records = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
    assert len(records) == 8 * 40
    assert {r["body"] for r in records} == {LONG_BODY}
    assert len({r["notification_id"] for r in records}) == len({r["id"] for r in records}) == 320


def read_eml(path):
    return BytesParser(policy=policy.default).parse(path.open("rb"))


def test_file_email_writes_a_readable_eml(tmp_path, frozen_clock):
    result = FileEmailChannel(tmp_path / "email").send(email())
    (path,) = (tmp_path / "email").iterdir()
    assert path.name == "n-1.eml"
    parsed = read_eml(path)
    assert parsed["Subject"] == "您的登记申请表已提交"
    assert parsed["From"].addresses[0].display_name == "北京社会工作者协会"
    assert parsed["Message-ID"] == result.provider_message_id == "<n-1@localhost>"
    assert parsed.get_body(("plain",)).get_content().strip() == email().body
    assert "请耐心等待审核结果" in parsed.get_body(("html",)).get_content()
    assert path.read_bytes().isascii()  # 7-bit clean: base64 bodies, encoded headers


def test_file_email_concurrent_writers_and_idempotent_retry(tmp_path):
    channel = FileEmailChannel(tmp_path)
    threads = [threading.Thread(target=lambda t=t: [channel.send(email(f"{t}-{i}")) for i in range(25)])
               for t in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    channel.send(email("0-0"))  # a retry replaces, it does not add
    files = sorted(tmp_path.iterdir())
    assert len(files) == 100 and all(f.suffix == ".eml" for f in files)
    assert all(read_eml(f)["Subject"] == "您的登记申请表已提交" for f in files)


def test_email_without_subject_is_a_programming_error(tmp_path):
    message = OutgoingMessage("email", "a@example.com", None, "正文", "approved", "n-9")
    with pytest.raises(ValueError, match="缺少主题"):
        FileEmailChannel(tmp_path).send(message)


def test_file_channels_make_their_directory_again_when_it_is_removed(tmp_path):
    """The directory is made when a send finds it missing, not checked before every send."""
    import shutil
    sms_channel, email_channel = FileSmsChannel(tmp_path / "sms" / "sms.jsonl"), FileEmailChannel(tmp_path / "email")
    sms_channel.send(sms(1))
    email_channel.send(email(1))
    shutil.rmtree(tmp_path / "sms")
    shutil.rmtree(tmp_path / "email")
    sms_channel.send(sms(2))
    email_channel.send(email(2))
    assert [json.loads(line)["notification_id"] for line in (tmp_path / "sms" / "sms.jsonl").open()] == ["n-2"]
    assert sorted(p.name for p in (tmp_path / "email").iterdir()) == ["n-2.eml"]  # no temporary file left
