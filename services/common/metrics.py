"""Prometheus metrics of the event bus, labelled by service (several services may share a process in tests)."""
from prometheus_client import CollectorRegistry, Counter, Gauge, generate_latest

REGISTRY = CollectorRegistry()

EVENTS_PUBLISHED = Counter("events_published_total", "Events the outbox relay published and the broker confirmed",
                           ["service", "type"], registry=REGISTRY)
EVENTS_CONSUMED = Counter("events_consumed_total", "Events handled by a subscriber",
                          ["service", "type", "outcome"], registry=REGISTRY)
EVENTS_DEAD_LETTERED = Counter("events_dead_lettered_total", "Messages moved to a dead-letter queue",
                               ["service", "queue"], registry=REGISTRY)
OUTBOX_PENDING = Gauge("outbox_pending_events", "Outbox rows not yet confirmed by the broker",
                       ["service"], registry=REGISTRY)
OUTBOX_LAG = Gauge("outbox_oldest_pending_seconds", "Age of the oldest unsent outbox row",
                   ["service"], registry=REGISTRY)


class ServiceMetrics:
    def __init__(self, service):
        self.service = service

    def published(self, event_type):
        EVENTS_PUBLISHED.labels(self.service, event_type).inc()

    def consumed(self, event_type, outcome):
        EVENTS_CONSUMED.labels(self.service, event_type, outcome).inc()

    def dead_lettered(self, queue):
        EVENTS_DEAD_LETTERED.labels(self.service, queue).inc()

    def outbox(self, pending, lag_seconds):
        OUTBOX_PENDING.labels(self.service).set(pending)
        OUTBOX_LAG.labels(self.service).set(lag_seconds)


def render():
    return generate_latest(REGISTRY).decode()
