from services.common import metrics
from services.gateway import http_metrics


def value(method, status):
    return metrics.REGISTRY.get_sample_value("http_responses_total", {"method": method, "status": status}) or 0


def test_answers_are_counted_by_status_class():
    before = value("GET", "5xx")
    assert http_metrics.record("GET", 503) == "5xx"
    assert http_metrics.record("GET", "oops") == "unknown"
    assert value("GET", "5xx") == before + 1
    assert "http_responses_total" in metrics.render()
