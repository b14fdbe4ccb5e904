"""The form of a service (docs/architecture.md), checked on the source for the services that have
adopted it: the service layer reaches data only through the unit of work's repositories, so it
imports no SQLAlchemy and never touches `uow.session` (that is for repository.py)."""
import re

import pytest

from tests.unit.test_architecture import SERVICES, imports

ADOPTED = ("registration", "notify", "review", "identity")
SERVICE_LAYER = ("handlers.py", "console.py", "uploads.py", "workbench.py", "audit.py",
                 "staff.py", "staff_signin.py", "captchas.py", "session_batch.py")
SESSION = re.compile(r"\.session\b")  # the SQLAlchemy session; identity's `uow.sessions` is a repository


@pytest.mark.parametrize("path", [SERVICES / s / f for s in ADOPTED for f in SERVICE_LAYER
                                  if (SERVICES / s / f).exists()], ids=str)
def test_the_service_layer_goes_through_repositories(path):
    assert not [m for m in imports(path) if m.split(".")[0] == "sqlalchemy" or m.endswith(".models")]
    assert not SESSION.search(path.read_text(encoding="utf-8"))


@pytest.mark.parametrize("service", ADOPTED)
def test_the_service_gives_its_repositories_to_the_unit_of_work(service):
    assert "repositories=repositories" in (SERVICES / service / "service.py").read_text(encoding="utf-8")
