"""`python -m services.ops add-subscriber NAME`: a broker account for an outside system.

What the account may do, in RabbitMQ's permission regexes on our virtual host:
- configure `^NAME\\.`: declare (and delete) queues named `NAME.<anything>`, nothing else. Our
  exchanges already exist (this command declares them), so the subscriber declares them passively,
  which needs no permission.
- write `^NAME\\.`: bind its own queues (queue.bind needs write on the queue). Publishing needs
  write on the exchange: none of ours matches, nor the default exchange (`amq.default`), so it can
  publish neither events nor messages into our queues.
- read `^(NAME\\..*|<source>.events...)$`: consume its own queues, and bind them to our `*.events`
  exchanges (queue.bind needs read on the exchange). Not our queues, not the RPC exchange.
Names are lower-case letters, digits and `-` (no `.`): one subscriber's prefix can never cover
another's queues, and names our own queues start with are refused. No management UI access (no tag).

A subscriber that stops consuming must not fill the broker's disk (a disk alarm would block our own
publishers): the policy `subscriber-NAME` caps each of its queues at `max_queue_mb` (the oldest
messages are dropped: the archive can replay them; never reject-publish, which would stall our
outbox relay), and the account may hold at most MAX_CONNECTIONS connections.
"""
import re
import secrets

from services.contracts.events import CATALOGUE

from .broker import BrokerError, event_exchanges

NAME = re.compile(r"^[a-z][a-z0-9-]{1,39}$")
# our queues and exchanges start with these (service queues `<service>.<Event>`, `rpc-…`, `rpc.reply-…`)
RESERVED = {source for source, _, _ in CATALOGUE.values()} | {
    "identity", "registration", "review", "notify", "gateway", "ops", "rpc", "nameko", "amq"}
MAX_CONNECTIONS = 10


def check_name(name):
    if not NAME.match(name or ""):
        raise BrokerError(f"订阅方名称 {name!r} 无效：须为2–40个小写字母、数字或“-”，以字母开头（不能含“.”）"
                          f" / invalid name: 2-40 of a-z 0-9 -, starting with a letter")
    if name in RESERVED:
        raise BrokerError(f"订阅方名称 {name} 与本系统自己的队列或交换机重名，请换一个 / {name} is one of our own names")


def permissions(name):
    ours = "|".join(re.escape(exchange) for exchange in event_exchanges())
    return {"configure": rf"^{name}\.", "write": rf"^{name}\.", "read": rf"^({name}\..*|{ours})$"}


def queue_policy(name, max_queue_mb):
    return {"pattern": rf"^{name}\.", "apply-to": "queues", "priority": 0,
            "definition": {"max-length-bytes": max_queue_mb * 1024 * 1024, "overflow": "drop-head"}}


def add_subscriber(management, name, password=None, reset_password=False, max_queue_mb=1024):
    """Create the account (or give it a new password); returns the password it now has."""
    check_name(name)
    exists = management.call("GET", f"users/{name}") is not None
    if exists and not reset_password:
        raise BrokerError(f"订阅方账号 {name} 已存在，未做改动；如需更换密码，加 --reset-password "
                          f"/ {name} exists, nothing changed (--reset-password gives it a new one)")
    for exchange in event_exchanges():  # as the services declare them: a subscriber may bind at once
        management.call("PUT", management.path("exchanges", exchange),
                        {"type": "topic", "durable": True, "auto_delete": False, "internal": False, "arguments": {}})
    password = password or secrets.token_urlsafe(24)
    management.call("PUT", f"users/{name}", {"password": password, "tags": ""})
    management.call("PUT", management.path("permissions", name), permissions(name))
    management.call("PUT", management.path("policies", f"subscriber-{name}"), queue_policy(name, max_queue_mb))
    management.call("PUT", f"user-limits/{name}/max-connections", {"value": MAX_CONNECTIONS})
    return password
