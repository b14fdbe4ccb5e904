"""docs/operations.md names only commands that exist, and explains every alert it is linked from."""
import pathlib
import re
import shlex

import yaml

from services.ops.__main__ import parse_args

ROOT = pathlib.Path(__file__).resolve().parents[2]
RUNBOOK = (ROOT / "docs" / "operations.md").read_text()


def ops_commands():
    """The arguments of every `docker compose run --rm ops …` line: `$(…)` and `<placeholder>` stand
    for one word, and the shell's redirections and comments end the command."""
    for line in re.findall(r"docker compose run --rm ops ([^\n`]+)", RUNBOOK):
        line = re.sub(r"\$\([^)]*\)|<[^<>]*>", "X", line)
        yield shlex.split(re.split(r"\s(?:>>?|2>|#|&&|\|)", line)[0])


def test_every_ops_command_in_the_runbook_parses():
    commands = list(ops_commands())
    assert {argv[0] for argv in commands} >= {"backup", "restore", "trail", "rotate-keys", "reindex",
                                              "add-subscriber", "replay-events"}
    for argv in commands:
        parse_args(argv)  # argparse exits on an unknown command, option or a missing argument


def test_the_log_archive_keeps_six_months():
    [days] = re.findall(r"find /var/log/sw-registration -name '\*\.jsonl\.gz' -mtime \+(\d+) -delete", RUNBOOK)
    assert int(days) >= 183


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
