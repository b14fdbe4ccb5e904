"""Queue types: classic by default; with QUORUM_QUEUES=1 every queue the services declare is a
quorum queue, replicated over a RabbitMQ cluster so that it survives the loss of a node.

A queue's type and arguments are fixed when it is first declared: declaring it again with others
is refused (PRECONDITION_FAILED). Changing QUORUM_QUEUES on a system that already ran needs the
migration in docs/operations.md (section "Broker cluster").

What stays classic, and why it may: nameko's standalone RPC clients (health checks, CLI tools,
tests) declare a reply queue of their own per client; a node lost with it loses that client's
pending call, which the caller retries. Exclusive queues cannot be quorum queues; the services
declare none.
"""
from nameko.rpc import ReplyListener, RpcConsumer
from nameko.standalone.rpc import SingleThreadedReplyListener

# A message handed out this many times without being settled (its consumer crashed or was cut
# off each time) goes to the dead-letter queue instead of looping. Our own retries republish a
# new message, so they do not count; RabbitMQ 4 drops such a message unless a DLX is set.
DELIVERY_LIMIT = 20


def quorum_enabled(config):
    return str(config.get("QUORUM_QUEUES", "0")) == "1"


def queue_arguments(quorum, dead_letter_to=None):
    """Arguments of a durable queue of ours: None (classic, as before) or a quorum queue's.

    With `dead_letter_to`, RabbitMQ itself moves a message past DELIVERY_LIMIT to that queue
    at-least-once (kept until the DLQ confirmed it), which needs `x-overflow: reject-publish`.
    """
    if not quorum:
        return None
    args = {"x-queue-type": "quorum"}
    if dead_letter_to:
        args.update({
            "x-dead-letter-exchange": "", "x-dead-letter-routing-key": dead_letter_to,
            "x-dead-letter-strategy": "at-least-once", "x-overflow": "reject-publish",
            "x-delivery-limit": DELIVERY_LIMIT,
        })
    return args


def _quorum_when_configured(setup):
    def setup_then_pick_type(self):
        setup(self)
        # A standalone client declares its queue inside setup: too late to change, so it stays classic.
        if quorum_enabled(self.container.config) and not isinstance(self, SingleThreadedReplyListener):
            self.queue.queue_arguments = {**(self.queue.queue_arguments or {}), "x-queue-type": "quorum"}
    setup_then_pick_type.original = setup
    return setup_then_pick_type


def quorum_rpc_queues():
    """nameko declares `rpc-<service>` and each service container's reply queue itself, without
    arguments: with QUORUM_QUEUES=1 in a container's config they become quorum queues too (both
    durable already; the reply queue keeps its x-expires). Idempotent; a no-op otherwise."""
    for cls in (RpcConsumer, ReplyListener):
        if not hasattr(cls.setup, "original"):
            cls.setup = _quorum_when_configured(cls.setup)
