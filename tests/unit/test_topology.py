"""services/topology.py lists exactly the @subscribe entrypoints of the service classes, so every
service declares every internal queue at start and no event is dropped for want of one."""
import importlib

import pytest

from services.common.subscriber import EventSubscriber
from services.contracts.events import CATALOGUE
from services.contracts.subscriptions import SUBSCRIPTIONS

SERVICES = {"identity": "IdentityService", "registration": "RegistrationService",
            "review": "ReviewService", "notify": "NotifyService"}


def subscriptions_of(service):
    cls = getattr(importlib.import_module(f"services.{service}.service"), SERVICES[service])
    found = set()
    for attr in dir(cls):
        for ext in getattr(getattr(cls, attr), "nameko_entrypoints", ()):
            if isinstance(ext, EventSubscriber):
                found.add((service, ext.source, ext.event_type))
    return found


@pytest.mark.parametrize("service", sorted(SERVICES))
def test_topology_lists_exactly_the_service_subscriptions(service):
    listed = {s for s in SUBSCRIPTIONS if s[0] == service}
    assert subscriptions_of(service) == listed


def test_every_subscription_is_to_a_published_event():
    for _, source, event_type in SUBSCRIPTIONS:
        assert CATALOGUE[event_type][0] == source
