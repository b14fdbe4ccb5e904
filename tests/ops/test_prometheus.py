"""deploy/prometheus: the alert rules pass `promtool check rules` and their own unit tests
(`promtool test rules`: each alert fires on the series that should fire it), the Prometheus config
is valid, and every metric of ours an alert or the dashboard reads is one the services register."""
import json
import pathlib
import re
import shutil
import subprocess

import pytest
import yaml

ROOT = pathlib.Path(__file__).resolve().parents[2]
PROMETHEUS = ROOT / "deploy" / "prometheus"
DASHBOARD = ROOT / "deploy" / "grafana" / "dashboards" / "sw-registration.json"
PROMTOOL = shutil.which("promtool")
needs_promtool = pytest.mark.skipif(
    PROMTOOL is None, reason="promtool is not installed: apt-get install -y --no-install-recommends prometheus "
                             "(.ci/run does)")
# Series that come from RabbitMQ's plugin, node-exporter and Prometheus itself, not from our code.
OUTSIDE = ("rabbitmq_", "node_", "up")


def promtool(*args):
    return subprocess.run([PROMTOOL, *args], cwd=PROMETHEUS, capture_output=True, text=True, timeout=120)


@needs_promtool
def test_alert_rules_pass_promtool_check_rules():
    done = promtool("check", "rules", "alerts.yml")
    assert done.returncode == 0, done.stdout + done.stderr


@needs_promtool
def test_alerts_fire_on_the_series_that_should_fire_them():
    done = promtool("test", "rules", "alerts.test.yml")
    assert done.returncode == 0, done.stdout + done.stderr


@needs_promtool
def test_prometheus_config_is_valid():
    done = promtool("check", "config", "prometheus.yml")
    assert done.returncode == 0, done.stdout + done.stderr


def registered_metric_names():
    # importing the services registers every metric they expose in the platform registry
    import services.gateway.http_metrics  # noqa: F401
    import services.gateway.service  # noqa: F401
    import services.identity.service  # noqa: F401
    import services.notify.service  # noqa: F401
    import services.registration.service  # noqa: F401
    import services.review.service  # noqa: F401
    from services.common import metrics

    names = set()
    for family in metrics.REGISTRY.collect():
        names.add(family.name)
        names.update(sample.name for sample in family.samples)
        names.add(family.name + "_total")
        if family.type == "histogram":
            names.update(family.name + suffix for suffix in ("_bucket", "_count", "_sum"))
    return names


def metric_names(expression):
    """The series names an expression reads (label matchers, grouping and functions left out)."""
    bare = re.sub(r"\{[^}]*\}|\b(by|without|on|ignoring)\s*\([^)]*\)|\[[^\]]*\]", " ", expression)
    functions = {"histogram_quantile", "predict_linear", "label_replace", "absent_over_time"}
    names = set(re.findall(r"\b[A-Za-z_][A-Za-z0-9_:]*\b", bare))
    return {n for n in names if ("_" in n and n not in functions) or n == "up"}


def test_every_metric_of_ours_in_the_alerts_and_the_dashboard_is_registered():
    rules = yaml.safe_load((PROMETHEUS / "alerts.yml").read_text())
    expressions = [rule["expr"] for group in rules["groups"] for rule in group["rules"]]
    dashboard = json.loads(DASHBOARD.read_text())
    expressions += [target["expr"] for panel in dashboard["panels"] for target in panel.get("targets", [])]
    ours = {name for expr in expressions for name in metric_names(expr) if not name.startswith(OUTSIDE)}
    assert ours, "no metric found in the expressions"
    missing = ours - registered_metric_names()
    assert not missing, f"metrics no service registers: {sorted(missing)}"
