"""docs/operations.md names only commands that exist, and explains every alert it is linked from."""
import pathlib
import re

import yaml

from services.ops.__main__ import parse_args

ROOT = pathlib.Path(__file__).resolve().parents[2]
RUNBOOK = (ROOT / "docs" / "operations.md").read_text()


def test_every_ops_command_in_the_runbook_parses():
    commands = re.findall(r"docker compose run --rm ops (\S+) (\S+)", RUNBOOK)
    assert {name for name, _ in commands} >= {"backup", "restore", "trail"}
    for name, argument in commands:
        parse_args([name, argument])  # argparse exits on an unknown command


def test_every_alert_links_to_a_section_of_the_runbook():
    headings = {h.strip().lower() for h in re.findall(r"^###\s+(.+)$", RUNBOOK, re.M)}
    rules = yaml.safe_load((ROOT / "deploy" / "prometheus" / "alerts.yml").read_text())
    for rule in (r for group in rules["groups"] for r in group["rules"]):
        anchor = rule["annotations"]["runbook"].split("#", 1)[1]
        assert anchor in headings, f"{rule['alert']}: no '### {anchor}' section in docs/operations.md"


def test_the_module_commands_in_the_runbook_exist():
    for module in set(re.findall(r"python -m (services\.[a-z_.]+)", RUNBOOK)):
        path = ROOT / (module.replace(".", "/") + ".py")
        package = ROOT / module.replace(".", "/") / "__main__.py"
        assert path.exists() or package.exists(), module
