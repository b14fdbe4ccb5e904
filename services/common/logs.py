"""Structured JSON logs, one object per line, with ID numbers and phones masked wherever they appear.

Levels mean who must act: an expected refusal (a DomainError answered 4xx: wrong code, not found,
second click) is the user's business and is logged as one WARNING line without a traceback, by
every service alike; ERROR is for what an operator must look at.
"""
import json
import logging
import sys
import time

from . import clock
from .masking import mask_text


def _refusal(exc):
    """A DomainError (duck-typed: it may arrive rebuilt from another service) with a 4xx status."""
    status = getattr(exc, "http_status", None)
    return isinstance(exc, Exception) and isinstance(status, int) and 400 <= status < 500


def _worker_of(record):
    """The nameko WorkerContext that nameko's container logs a worker's failure with, if any."""
    for arg in record.args if isinstance(record.args, tuple) else ():
        if hasattr(arg, "entrypoint") and hasattr(arg, "service_name"):
            return arg
    return None


class RefusalFilter(logging.Filter):
    """Rewrites records about an expected refusal to one WARNING line; drops tracebacks that add nothing.

    An event handler's failure is left as it is: it is retried and may be dead-lettered, which
    someone must look at.
    """

    def filter(self, record):
        exc = record.exc_info[1] if record.exc_info else None
        if exc is None:
            return True
        worker = _worker_of(record)
        if _refusal(exc) and not hasattr(getattr(worker, "entrypoint", None), "event_type"):
            where = f"{worker.service_name}.{worker.entrypoint.method_name}" if worker else record.name
            record.levelno, record.levelname = logging.WARNING, "WARNING"
            record.msg, record.args = "refused %s (%s): %s", (where, exc.http_status, exc)
            record.exc_info = record.exc_text = None
        elif getattr(exc, "log_without_traceback", False):
            record.exc_info = record.exc_text = None
        return True


class RepeatFilter(logging.Filter):
    """The same failure over and over is one line a minute, with how many were held back.

    A database away for ten seconds fails every worker alike: thousands of identical tracebacks would
    bury the one line an operator needs (and fill the disk). Only ERROR records with an exception are
    grouped, by logger, exception type and message.
    """

    def __init__(self, window=60.0, clock=time.monotonic, remember=1000):
        super().__init__()
        self.window, self.clock, self.remember = window, clock, remember
        self.seen = {}  # key → [when it was last let through, how many held back since]

    def filter(self, record):
        if record.levelno < logging.ERROR or not record.exc_info or record.exc_info[1] is None:
            return True
        exc = record.exc_info[1]
        key = (record.name, type(exc).__name__, str(exc)[:200])
        now = self.clock()
        entry = self.seen.get(key)
        if entry is not None and now - entry[0] < self.window:
            entry[1] += 1
            return False
        if entry is not None and entry[1]:
            record.msg = f"{record.msg} [the same failure {entry[1]} more times since the last line]"
        if len(self.seen) >= self.remember:  # forget the longest-quiet failure
            self.seen.pop(min(self.seen, key=lambda k: self.seen[k][0]))
        self.seen[key] = [now, 0]
        return True


class JsonFormatter(logging.Formatter):
    def __init__(self, service):
        super().__init__()
        self.service = service

    def format(self, record):
        entry = {
            "time": clock.iso(clock.now()),
            "level": record.levelname,
            "service": self.service,
            "logger": record.name,
            "message": mask_text(record.getMessage()),
        }
        if record.exc_info:
            entry["exception"] = mask_text(self.formatException(record.exc_info))
        return json.dumps(entry, ensure_ascii=False)


def setup_logging(service, level="INFO", stream=None):
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(JsonFormatter(service))
    handler.addFilter(RefusalFilter())
    handler.addFilter(RepeatFilter())  # after RefusalFilter: refusals are WARNING by then, never grouped
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    for noisy in ("amqp", "kombu", "nameko.containers", "urllib3"):
        logging.getLogger(noisy).setLevel(max(logging.WARNING, root.level))
