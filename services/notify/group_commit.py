"""Group commit: the writes of concurrent workers go to the database together, one transaction per
group, instead of one transaction each (on PostgreSQL a commit costs a round trip and a WAL flush,
and the ORM's per-statement overhead shrinks with executemany).

A worker hands its item in and waits. When nobody is writing, it lets the event loop turn once (the
workers woken with it join) and writes every item waiting (its own first) in one call of
`write_many(items) -> [result per item]`, then hands the turn to the first
worker still waiting, so no worker writes for the others forever and each item is written by a
worker of its own group. When the group's write raises, each item is written alone, so one bad
item fails only its own worker (whose event is then retried or dead-lettered as usual) — unless
`split_on_failure` is off: a question that fails for all at once (registration.contacts_of not
answering in time) fails the whole group at once instead of being asked again item by item.

Green threads only (eventlet): between two yields no other worker runs, so plain lists suffice.
"""
import logging

import eventlet
from eventlet.queue import LightQueue

log = logging.getLogger(__name__)

_LEAD, _DONE, _FAILED = "lead", "done", "failed"


class GroupCommit:
    def __init__(self, limit=200, split_on_failure=True):
        self.limit = limit  # items per transaction at most
        self.split_on_failure = split_on_failure
        self._waiting = []  # (item, answer box), in arrival order
        self._writing = False  # a worker writes, or was handed the turn

    def __call__(self, write_many, item):
        box = LightQueue()
        self._waiting.append((item, box))
        if not self._writing:
            self._lead(write_many)
        while True:
            kind, value = box.get()
            if kind == _LEAD:
                self._lead(write_many)
            elif kind == _FAILED:
                raise value
            else:
                return value

    def _lead(self, write_many):
        self._writing = True
        try:
            # One turn of the event loop first: the workers it wakes together (the answers to one
            # contacts_of, the end of the last group's write) reach this group instead of the next.
            eventlet.sleep(0)
        except BaseException:  # killed before writing: its own item (the first) leaves with it
            self._waiting.pop(0)
            self._hand_on()
            raise
        group, self._waiting = self._waiting[:self.limit], self._waiting[self.limit:]
        try:
            self._write(write_many, group)
        finally:
            self._hand_on()

    def _hand_on(self):
        if self._waiting:
            self._waiting[0][1].put((_LEAD, None))
        else:
            self._writing = False

    def _write(self, write_many, group):
        try:
            results = write_many([item for item, _ in group])
        except Exception as exc:  # noqa: BLE001 — find the item that fails: write each alone
            if len(group) == 1 or not self.split_on_failure:
                for _, box in group:
                    box.put((_FAILED, exc))
                return
            log.info("a group of %s writes failed (%s: %s); writing each alone", len(group),
                     type(exc).__name__, exc)
            for one in group:
                self._write(write_many, [one])
            return
        except BaseException:  # the writer is being killed: do not leave the others waiting, and
            # fail them with an error of their own (their events are retried), not the kill itself
            for _, box in group:
                box.put((_FAILED, WriterStopped("the worker writing this group was stopped")))
            raise
        for (_, box), result in zip(group, results, strict=True):
            box.put((_DONE, result))


class WriterStopped(RuntimeError):
    """The worker writing a group was killed before it finished: whether the write happened is
    unknown to the others, whose events are retried (processed_events makes a repeat harmless)."""


def write_alone(write_many, item):
    """Without a group (unit tests, scripts): the item in its own transaction."""
    return write_many([item])[0]
