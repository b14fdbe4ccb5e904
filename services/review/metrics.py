"""Reviewer figures as Prometheus gauges on the platform registry (refreshed by the metrics and
figures RPCs, so a scrape always reads the database's current state)."""
from prometheus_client import Gauge

from services.common.metrics import REGISTRY

TASKS = Gauge("review_tasks", "Review tasks by state (an expired claim counts as pending)", ["state"],
              registry=REGISTRY)
OLDEST_WAITING = Gauge("review_oldest_waiting_seconds", "Age of the oldest undecided submission",
                       registry=REGISTRY)
MEDIAN_TO_DECISION = Gauge("review_median_seconds_to_decision",
                           "Median seconds from submission to decision over the figures window", registry=REGISTRY)
DECIDED_TODAY = Gauge("review_decided_today", "Decisions today (Beijing day) per reviewer", ["reviewer"],
                      registry=REGISTRY)


def publish(figures):
    for state, count in figures["counts"]["by_state"].items():
        TASKS.labels(state).set(count)
    OLDEST_WAITING.set(figures["oldest_waiting_seconds"] or 0)
    MEDIAN_TO_DECISION.set(figures["median_seconds_to_decision"] or 0)
    DECIDED_TODAY.clear()
    for reviewer, count in figures["decided_today"].items():
        DECIDED_TODAY.labels(reviewer).set(count)
