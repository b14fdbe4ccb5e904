import shutil

import pytest

from tests.support.system import system  # noqa: F401 — the whole system as a fixture

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"


@pytest.fixture
def chromium():
    if not shutil.which("chromium"):
        pytest.skip("Debian's chromium is not installed (apt-get install chromium)")
    return CHROMIUM
