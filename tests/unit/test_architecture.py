"""The layers of docs/architecture.md, checked on the source: a rule broken here is a design change
to discuss, not a test to loosen.

- the domain (`services/<service>/domain/`) and the contracts are plain Python: no framework, no I/O;
- no service imports another: they meet only through `services.contracts` and the broker;
- `services.common` is the platform: it knows no single service.
"""
import ast
import pathlib

import pytest

SERVICES = pathlib.Path(__file__).resolve().parents[2] / "services"
OWN = ("identity", "registration", "review", "notify", "gateway")
FRAMEWORKS = ("nameko", "sqlalchemy", "eventlet", "kombu", "amqp", "requests", "psycopg2", "werkzeug")


def imports(path):
    """Every module name `path` imports (absolute; relative imports resolved against its package)."""
    package = path.relative_to(SERVICES.parent).with_suffix("").parts[:-1]
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package[:len(package) - node.level + 1]
                yield ".".join((*base, node.module) if node.module else base)
            else:
                yield node.module


def files(*parts):
    return sorted(SERVICES.joinpath(*parts).rglob("*.py"))


def top(name):
    return name.split(".")[0]


@pytest.mark.parametrize("path", [*files("contracts"), *[p for s in OWN for p in files(s, "domain")]],
                         ids=lambda p: str(p.relative_to(SERVICES)))
def test_domain_and_contracts_are_plain_python(path):
    used = {top(name) for name in imports(path)}
    assert not used & set(FRAMEWORKS), f"{path.name} imports {sorted(used & set(FRAMEWORKS))}"


@pytest.mark.parametrize("service", OWN)
def test_no_service_imports_another(service):
    others = {f"services.{other}" for other in OWN if other != service}
    for path in files(service):
        for name in imports(path):
            assert not any(name == o or name.startswith(o + ".") for o in others), \
                f"{path.relative_to(SERVICES)} imports {name}"


def test_the_platform_knows_no_single_service():
    own = {f"services.{s}" for s in OWN}
    for path in files("common"):
        for name in imports(path):
            assert not any(name == o or name.startswith(o + ".") for o in own), \
                f"{path.relative_to(SERVICES)} imports {name}"
