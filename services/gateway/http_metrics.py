"""HTTP answers of the gateway by method and status class, for the 5xx-rate alert
(deploy/prometheus/alerts.yml). `record(method, status)` is called once per answer."""
from prometheus_client import Counter

from services.common.metrics import REGISTRY

RESPONSES = Counter("http_responses_total", "HTTP answers of the gateway", ["method", "status"],
                    registry=REGISTRY)


def record(method, status):
    """Count one answer; status is grouped by class ("2xx" ... "5xx") to keep the series few."""
    try:
        group = f"{int(status) // 100}xx"
    except (TypeError, ValueError):
        group = "unknown"
    RESPONSES.labels(method or "unknown", group).inc()
    return group
