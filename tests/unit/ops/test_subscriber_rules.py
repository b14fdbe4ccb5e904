"""add-subscriber's names and permissions, replay's topic matching and --since (no broker needed)."""
import io
import re
from datetime import timezone

import pytest

from services.ops.broker import BrokerError, event_exchanges
from services.ops.replay import parse_since, topic_matches
from services.ops.subscribers import check_name, permissions


def test_our_event_exchanges_are_those_of_the_publishing_services():
    assert event_exchanges() == ["identity.events", "notify.events", "registration.events", "review.events"]


@pytest.mark.parametrize("name", ["printing-office", "pt", "a1-b2"])
def test_good_names(name):
    check_name(name)


@pytest.mark.parametrize("name", ["x", "Printing", "printing.office", "1abc", "review", "rpc", "amq", "", "a" * 41])
def test_bad_or_reserved_names_are_refused_in_chinese(name):
    with pytest.raises(BrokerError, match="订阅方名称"):
        check_name(name)


def test_the_permission_regexes_cover_its_own_queues_and_reading_our_exchanges_only():
    rules = {kind: re.compile(pattern) for kind, pattern in permissions("printing-office").items()}
    own, ours = "printing-office.events", ["review.ApplicationSubmitted", "rpc-review", "rpc.reply-x", "nameko-rpc"]
    assert all(rules[kind].search(own) for kind in ("configure", "write", "read"))
    for resource in ours + ["amq.default", "amq.topic", "printing-officeX.q", "other.events", "printing-office"]:
        assert not rules["configure"].search(resource) and not rules["write"].search(resource), resource
        assert not rules["read"].search(resource), resource
    for exchange in event_exchanges():
        assert rules["read"].search(exchange) and not rules["write"].search(exchange)


@pytest.mark.parametrize("pattern,key,matches", [
    ("#", "ReviewCompleted", True), ("*", "ReviewCompleted", True), ("ReviewCompleted", "ReviewCompleted", True),
    ("ApplicationSubmitted", "ReviewCompleted", False), ("a.#", "a", True), ("#.b", "a.b", True),
    ("*", "a.b", False), ("a.*.c", "a.b.c", True), ("a.*", "a", False)])
def test_topic_matching_is_amqps(pattern, key, matches):
    assert topic_matches(pattern, key) is matches


def test_since_without_a_zone_is_beijing_time_and_nonsense_is_refused():
    assert parse_since("2026-03-01").astimezone(timezone.utc).isoformat() == "2026-02-28T16:00:00+00:00"
    assert parse_since("2026-03-01T08:00:00+00:00").hour == 8
    with pytest.raises(BrokerError, match="不是日期时间"):
        parse_since("yesterday")


ENVIRON = {"AMQP_URI": "amqp://registration:pw@127.0.0.1:1/", "RABBITMQ_MANAGEMENT_URL": "http://127.0.0.1:1"}


def test_bad_input_is_refused_before_the_broker_is_asked(capsys, monkeypatch):
    from services.ops.__main__ import main
    assert main(["add-subscriber", "Bad.Name"], environ=ENVIRON) == 2  # port 1: nothing answers there
    assert "订阅方名称" in capsys.readouterr().err
    monkeypatch.setattr("sys.stdin", io.StringIO("short\n"))
    assert main(["add-subscriber", "printing-office", "--password-stdin"], environ=ENVIRON) == 2
    assert "密码至少16个字符" in capsys.readouterr().err
    assert main(["replay-events", "--to", "printing-office", "--since", "soon"], environ=ENVIRON) == 2
    assert "不是日期时间" in capsys.readouterr().err
