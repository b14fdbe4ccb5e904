"""A storm of one failure is one log line a minute with a count; different failures and refusals pass."""
import io
import json
import logging

from services.common.logs import JsonFormatter, RefusalFilter, RepeatFilter
from services.contracts.errors import NotFound


class Clock:
    now = 0.0

    def __call__(self):
        return self.now


def logger_with(clock):
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter("test"))
    handler.addFilter(RefusalFilter())
    handler.addFilter(RepeatFilter(window=60, clock=clock))
    log = logging.getLogger(f"storm-{id(stream)}")
    log.handlers[:] = [handler]
    log.propagate = False
    return log, lambda: [json.loads(line) for line in stream.getvalue().splitlines()]


def fail(log, exc):
    try:
        raise exc
    except Exception:  # noqa: BLE001
        log.exception("error handling worker %s", "registration.submit")


def test_a_thousand_identical_failures_are_one_line_then_one_a_minute_with_the_count():
    clock = Clock()
    log, lines = logger_with(clock)
    for _ in range(1000):
        fail(log, ConnectionRefusedError("connection to server at 127.0.0.1:5432 refused"))
    assert len(lines()) == 1 and lines()[0]["level"] == "ERROR" and "exception" in lines()[0]
    clock.now = 61
    fail(log, ConnectionRefusedError("connection to server at 127.0.0.1:5432 refused"))
    assert len(lines()) == 2 and "999 more times" in lines()[1]["message"]


def test_different_failures_and_other_levels_are_never_held_back():
    clock = Clock()
    log, lines = logger_with(clock)
    fail(log, KeyError("a"))
    fail(log, KeyError("b"))
    fail(log, ValueError("a"))
    for _ in range(3):
        log.warning("broker unreachable; retrying")
        fail(log, NotFound("申请不存在"))  # a refusal: one WARNING line each, as RefusalFilter makes it
    assert len(lines()) == 9
    assert [line["level"] for line in lines()].count("WARNING") == 6
