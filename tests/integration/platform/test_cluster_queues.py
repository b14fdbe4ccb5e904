"""QUORUM_QUEUES=1: every queue the services declare is a quorum queue, and RabbitMQ itself
dead-letters at-least-once. On the shared broker, in a vhost of the test's own (a one-node
"cluster" is enough to see the queue types); the node-loss proof is test_cluster_node_loss.py.
"""
import json
from urllib.parse import quote, urlsplit

import amqp
import pytest
import requests
from kombu import Connection, Queue
from nameko.rpc import RpcProxy, rpc
from nameko.standalone.rpc import ClusterRpcProxy

from services.common import deadletters
from services.common.queues import DELIVERY_LIMIT, queue_arguments, quorum_rpc_queues
from services.common.subscriber import declare_subscription, dlq_name
from services.contracts.events import CONTENT_TYPE
from tests.support.infra import AUTH, RABBIT_MGMT, queue_depth, wait_for

from .test_bus import count
from .toy_services import Consumer, Publisher, submitted

pytestmark = pytest.mark.integration

SUBSCRIPTION = ("review", "registration", "ApplicationSubmitted")


class Caller:
    """A service that calls another by RPC, as the gateway does: its reply queue is a service's too."""
    name = "gateway"
    registration = RpcProxy("registration")

    @rpc
    def submit(self, application_id):
        return self.registration.submit(application_id)


def queues_of(amqp_uri):
    """{name: (type, arguments)} of every queue in the test's vhost, from the management API."""
    vhost = quote(urlsplit(amqp_uri).path[1:], safe="")
    answer = requests.get(f"{RABBIT_MGMT}/api/queues/{vhost}", auth=AUTH, timeout=10)
    answer.raise_for_status()
    return {q["name"]: (q["type"], q["arguments"]) for q in answer.json()}


def test_without_the_setting_queues_stay_classic_as_before():
    # a deployment that ran classic queues must declare them exactly as before (else PRECONDITION_FAILED)
    assert queue_arguments(False) is None
    assert queue_arguments(False, dead_letter_to="x.dlq") is None


def test_every_queue_the_services_declare_is_a_quorum_queue(make_config, start_service):
    quorum_rpc_queues()  # as services.common.runner.run does
    pub_cfg, con_cfg = make_config("registration", QUORUM_QUEUES="1"), make_config("review", QUORUM_QUEUES="1")
    start_service(Publisher, pub_cfg)
    consumer = start_service(Consumer, con_cfg)
    start_service(Caller, make_config("gateway", QUORUM_QUEUES="1"))
    with ClusterRpcProxy({"AMQP_URI": pub_cfg["AMQP_URI"]}) as cluster:
        cluster.gateway.submit("app-1")
        wait_for(lambda: count(consumer) == 1, message="the event handled through quorum queues")
        queues = queues_of(pub_cfg["AMQP_URI"])
    ours = {"review.ApplicationSubmitted", "review.ApplicationSubmitted.dlq", "rpc-registration", "rpc-review",
            "rpc-gateway"}
    assert ours <= set(queues)
    [reply] = [name for name in queues if name.startswith("rpc.reply-gateway-")]
    for name in ours | {reply}:
        assert queues[name][0] == "quorum", name
    # the standalone client's own reply queue stays classic (services.common.queues says why)
    assert {queues[name][0] for name in queues if name.startswith("rpc.reply-standalone")} == {"classic"}
    main = queues["review.ApplicationSubmitted"][1]
    assert main["x-dead-letter-routing-key"] == "review.ApplicationSubmitted.dlq"
    assert main["x-dead-letter-strategy"] == "at-least-once" and main["x-overflow"] == "reject-publish"
    assert queues[reply][1]["x-expires"] == 300000  # nameko's own expiry is kept


def test_a_message_handed_out_too_often_is_dead_lettered_by_rabbitmq(amqp_uri):
    """A consumer that dies before settling (a poison message killing its process) makes the broker
    hand the message out again and again: past the limit it lands in the DLQ, listed with its cause."""
    with Connection(amqp_uri) as conn:
        channel = conn.channel()
        queue = declare_subscription(channel, *SUBSCRIPTION, quorum=True)
        event = submitted("poison")
        channel.basic_publish(amqp.Message(json.dumps(event), message_id=event["id"], delivery_mode=2,
                                           content_type=CONTENT_TYPE, content_encoding="utf-8"),
                              exchange="registration.events", routing_key="ApplicationSubmitted")
        dlq = dlq_name(queue.name)
        wait_for(lambda: queue_depth(amqp_uri, queue.name) == 1, message="the event queued")
        for _ in range(DELIVERY_LIMIT + 1):
            message = channel.basic_get(queue.name, no_ack=False)
            if message is None:
                break
            channel.basic_reject(message.delivery_tag, requeue=True)
    wait_for(lambda: queue_depth(amqp_uri, dlq) == 1, message="the message in the DLQ")
    assert queue_depth(amqp_uri, queue.name) == 0
    [letter] = deadletters.list_letters(amqp_uri, dlq)
    assert letter["id"] == event["id"]
    assert letter["error"] == "dead-lettered by RabbitMQ: delivery_limit"
    assert letter["queue"] == queue.name
    assert deadletters.replay(amqp_uri, dlq) == 1  # the replay tool takes it back like any letter
    wait_for(lambda: queue_depth(amqp_uri, queue.name) == 1, message="the letter replayed")


def test_a_classic_queue_is_not_silently_redeclared_as_quorum(amqp_uri):
    """Why switching QUORUM_QUEUES needs the runbook's migration: the broker refuses the change."""
    with Connection(amqp_uri) as conn:
        declare_subscription(conn.channel(), *SUBSCRIPTION, quorum=False)
        with pytest.raises(Exception, match="PRECONDITION_FAILED"):
            Queue("review.ApplicationSubmitted", durable=True, channel=conn.channel(),
                  queue_arguments=queue_arguments(True, "review.ApplicationSubmitted.dlq")).declare()
