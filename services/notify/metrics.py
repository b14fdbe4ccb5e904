"""Prometheus metrics of the notify service, per channel, in the platform's registry."""
from prometheus_client import Counter, Gauge, Histogram

from services.common.metrics import REGISTRY

SENT = Counter("notifications_sent_total", "Notifications the provider accepted", ["channel"],
               registry=REGISTRY)
FAILED = Counter("notifications_failed_total", "Notifications given up (permanent failure, retries "
                 "exhausted, expired)", ["channel"], registry=REGISTRY)
ATTEMPTS = Counter("notification_attempts_total", "Delivery attempts by outcome",
                   ["channel", "outcome"], registry=REGISTRY)
RETRY_BACKLOG = Gauge("notifications_retry_backlog", "Queued notifications waiting for a retry after a "
                      "temporary failure", ["channel"], registry=REGISTRY)
HELD = Gauge("notifications_held", "Queued notifications not yet attempted (quiet hours)", ["channel"],
             registry=REGISTRY)
PROVIDER_LATENCY = Histogram("notification_provider_latency_seconds", "Time the channel took to answer",
                             ["channel"], registry=REGISTRY,
                             buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30))

CHANNELS = ("sms", "email")


def attempt(channel, outcome, seconds):
    PROVIDER_LATENCY.labels(channel).observe(seconds)
    ATTEMPTS.labels(channel, outcome).inc()


def finished(channel, state):
    (SENT if state == "delivered" else FAILED).labels(channel).inc()


def backlog(retrying, held):
    """retrying/held: {channel: count}; channels with nothing waiting read 0."""
    for channel in CHANNELS:
        RETRY_BACKLOG.labels(channel).set(retrying.get(channel, 0))
        HELD.labels(channel).set(held.get(channel, 0))
