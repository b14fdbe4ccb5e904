"""The phone kept per account (models.AccountPhone) in the service layer, on the fake unit of work:
kept with the event that learned it, in the same unit of work, and read back by `look`."""
import pytest

from services.common import clock
from services.contracts.events import new_event
from services.notify.handlers import EventWork, Notifier

from .builders import CIPHER, NOON, TEMPLATES, settings, submitted
from .fakes import FakeChannel, fake_db


@pytest.fixture
def notifier():
    clock.set_now(NOON)
    yield Notifier(fake_db(), CIPHER, TEMPLATES, {"sms": FakeChannel(), "email": FakeChannel()}, settings())
    clock.set_now(None)


def registered(account_id="acc-1"):
    return new_event("AccountRegistered", account_id, {"account_id": account_id, "phone_masked": "138****5678",
                                                       "registered_at": "2020-07-03T10:00:00+08:00"})


def test_account_registered_keeps_the_phone_it_was_given(notifier):
    assert notifier.look(account_id="acc-1") == (False, None)
    notifier.account_registered(registered(), "notify", "13812345678")
    assert notifier.look(account_id="acc-1") == (False, "13812345678")
    assert notifier.db.uow.account_phones.kept == {"acc-1": "13812345678"}


def test_look_says_whether_the_event_was_handled_and_the_kept_phone_in_one_read(notifier):
    event = submitted()
    notifier.application_submitted(event, "notify", "13812345678", None, learned={"acc-1": "13812345678"})
    commits = notifier.db.uow.commits
    assert notifier.look(event, "notify", "acc-1") == (True, "13812345678")
    assert notifier.look(submitted(attempt=2), "notify", "acc-9") == (False, None)
    assert notifier.db.uow.commits == commits + 2  # one read each, nothing written


def test_a_phone_is_kept_only_with_the_event_that_learned_it(notifier):
    """A repeat of an event already handled keeps nothing new; a failing unit of work keeps nothing."""
    event = submitted()
    notifier.application_submitted(event, "notify", "13812345678", None)
    notifier.application_submitted(event, "notify", "13900000000", None, learned={"acc-1": "13900000000"})
    assert notifier.look(account_id="acc-1")[1] is None

    def broken(uow, now):
        raise RuntimeError("数据库断开")
    with pytest.raises(RuntimeError):
        notifier._on_event(submitted(attempt=2), "notify", [], broken, learned={"acc-1": "13900000000"})
    assert notifier.look(account_id="acc-1")[1] is None


def test_in_a_group_only_the_events_handled_now_keep_their_phones(notifier):
    first, second = submitted(), submitted(attempt=2)
    notifier.application_submitted(first, "notify", "13812345678", None)
    works = [EventWork(event, "notify", [], None, NOON, phones) for event, phones in
             ((first, {"acc-1": "13900000000"}), (second, {"acc-2": "13700000000"}))]
    notifier._store_events(works)  # a group of two: the first a repeat
    assert notifier.db.uow.account_phones.kept == {"acc-2": "13700000000"}
