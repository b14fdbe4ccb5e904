from tests.support.system import system  # noqa: F401 — the whole system as a fixture
