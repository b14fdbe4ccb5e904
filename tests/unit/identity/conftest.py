"""The fake identity world (tests/unit/identity/fakes.py) on a frozen clock, for the handler tests."""
import pytest

from services.common import clock

from .fakes import NOW, World


@pytest.fixture
def w():
    clock.set_now(NOW)
    yield World()
    clock.set_now(None)
