"""Group commit: concurrent green threads' writes in one call, each item once, failures kept apart."""
import eventlet
import pytest

from services.notify.group_commit import GroupCommit, WriterStopped, write_alone


class Store:
    """write_many that yields like a database round trip, and records each call's items."""

    def __init__(self, bad=()):
        self.calls = []
        self.bad = set(bad)

    def write_many(self, items):
        self.calls.append(list(items))
        eventlet.sleep(0.001)  # the round trip: other workers queue meanwhile
        if self.bad & set(items):
            raise ValueError(f"cannot write {sorted(self.bad & set(items))}")
        return [item * 10 for item in items]


def run_workers(group, store, items):
    threads = {item: eventlet.spawn(group, store.write_many, item) for item in items}
    answers = {}
    for item, thread in threads.items():
        try:
            answers[item] = thread.wait()
        except ValueError as exc:
            answers[item] = exc
    return answers


def test_concurrent_items_share_calls_and_each_gets_its_own_answer():
    store = Store()
    answers = run_workers(GroupCommit(), store, range(50))
    assert answers == {item: item * 10 for item in range(50)}
    written = [item for call in store.calls for item in call]
    assert sorted(written) == list(range(50))  # each item once
    assert len(store.calls) < 50 and max(len(call) for call in store.calls) > 1


def test_the_limit_bounds_a_group():
    store = Store()
    run_workers(GroupCommit(limit=4), store, range(30))
    assert max(len(call) for call in store.calls) <= 4
    assert sorted(item for call in store.calls for item in call) == list(range(30))


def test_a_failing_item_fails_alone():
    store = Store(bad={7})
    answers = run_workers(GroupCommit(), store, range(20))
    assert isinstance(answers[7], ValueError)
    assert {item: answer for item, answer in answers.items() if item != 7} == {
        item: item * 10 for item in range(20) if item != 7}
    assert [7] in store.calls  # retried alone after its group failed


def test_a_killed_writer_does_not_leave_the_others_waiting():
    store = Store()
    group = GroupCommit()
    first = eventlet.spawn(group, store.write_many, 1)
    eventlet.sleep(0)  # the first worker is writing (inside its round trip)
    later = [eventlet.spawn(group, store.write_many, item) for item in (2, 3)]
    eventlet.sleep(0)
    first.kill()
    with eventlet.Timeout(5):
        assert [thread.wait() for thread in later] == [20, 30]


def test_workers_woken_together_share_the_first_group():
    """The leader lets the event loop turn once before writing: the workers runnable at that moment
    (woken by the same reply or the same commit) join its group instead of forming the next."""
    store = Store()
    run_workers(GroupCommit(), store, range(10))
    assert store.calls[0] == list(range(10))


def test_a_leader_killed_before_writing_leaves_the_others_to_the_next():
    store = Store()
    group = GroupCommit()
    first = eventlet.spawn(group, store.write_many, 1)
    later = [eventlet.spawn(group, store.write_many, item) for item in (2, 3)]
    eventlet.sleep(0)  # the first worker leads and waits one turn; the others join
    first.kill()
    with eventlet.Timeout(5):
        assert [thread.wait() for thread in later] == [20, 30]
    assert store.calls == [[2, 3]]


def test_the_others_of_a_killed_writers_group_fail_with_an_error_of_their_own():
    """Not with the kill itself (GreenletExit would end their workers unanswered): an Exception,
    so the subscriber retries their events."""
    store = Store()
    group = GroupCommit()
    threads = [eventlet.spawn(group, store.write_many, item) for item in (1, 2, 3)]
    while not store.calls:
        eventlet.sleep(0)  # the first worker leads and is inside the write with the others' items
    threads[0].kill()
    for thread in threads[1:]:
        with pytest.raises(WriterStopped):
            thread.wait()


def test_alone_is_one_call_per_item():
    store = Store()
    assert write_alone(store.write_many, 4) == 40
    assert store.calls == [[4]]


def test_group_commit_raises_what_the_write_raised_for_a_single_item():
    with pytest.raises(ValueError, match="cannot write"):
        GroupCommit()(Store(bad={1}).write_many, 1)
