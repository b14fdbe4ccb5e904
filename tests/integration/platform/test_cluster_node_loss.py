"""A three-node RabbitMQ cluster with quorum queues loses a node mid-load: no submission is lost,
none is doubled, no service dies of it.

The cluster is three private nodes (tests.support.private_broker: own node names, ports, data
dirs, one Erlang cookie) joined with `rabbitmqctl join_cluster`; the machine's shared broker is
never touched. The services get every node in AMQP_URI (kombu fails over in order) and
QUORUM_QUEUES=1, as the compose profile "cluster" sets them. Slow tier: `make test-slow`.
"""
import json

import eventlet
import pytest
from sqlalchemy import select

from services.common.queues import quorum_rpc_queues
from services.common.runner import forgive_lost_rpc_replies
from tests.support.infra import dependency, wait_for
from tests.support.private_broker import make_cluster_config, private_cluster  # noqa: F401 — fixtures

from .test_broker_outage import submit
from .test_bus import task_rows
from .toy_services import Consumer, Publisher, submissions

pytestmark = [pytest.mark.integration, pytest.mark.slow, pytest.mark.timeout(900)]

CLIENTS, PER_CLIENT = 4, 40
OURS = ("review.ApplicationSubmitted", "review.ApplicationSubmitted.dlq", "rpc-registration", "rpc-review")


def queues(node):
    """{name: queue} as `rabbitmqctl list_queues` on `node` reports them."""
    out = node.ctl("list_queues", "name", "type", "leader", "members", "--formatter", "json").stdout
    return {q["name"]: q for q in json.loads(out)}


def test_losing_a_node_mid_load_loses_and_doubles_nothing_then_a_new_node_replaces_it(
        private_cluster, make_cluster_config, start_service):  # noqa: F811
    forgive_lost_rpc_replies()  # as services.common.runner.run does
    quorum_rpc_queues()
    first, survivor = private_cluster.nodes[0], private_cluster.nodes[1]
    pub_cfg, con_cfg = make_cluster_config("registration"), make_cluster_config("review")
    publisher = start_service(Publisher, pub_cfg)
    consumer = start_service(Consumer, con_cfg)
    uri = pub_cfg["AMQP_URI"]
    assert uri.count(";") == 2

    # Every queue of ours is replicated on all three nodes, and led by the first node: the services
    # connected there first, so losing it takes their connections and every queue's leader at once.
    before = queues(survivor)
    for name in OURS:
        assert before[name]["type"] == "quorum", name
        assert len(before[name]["members"]) == 3, name
        assert before[name]["leader"] == first.node, name

    accepted = []

    def client(c):
        for i in range(PER_CLIENT):
            application_id = f"c{c}-{i}"
            # A client retries until it gets an answer (submit_once is safe to retry).
            wait_for(lambda app=application_id: submit(uri, app, timeout=5), timeout=180, interval=0.2,
                     message=f"{application_id} to be accepted")
            accepted.append(application_id)

    load = [eventlet.spawn(client, c) for c in range(CLIENTS)]
    wait_for(lambda: len(accepted) >= 30, timeout=120, message="the load to be under way")
    first.kill()  # SIGKILL: no goodbye to clients or peers
    lost_at = len(accepted)
    for thread in load:
        thread.wait()
    assert lost_at < CLIENTS * PER_CLIENT  # the node went while submissions were still coming

    assert private_cluster.running_nodes(via=survivor) == sorted(n.node for n in private_cluster.nodes[1:])
    after = queues(survivor)
    assert after["review.ApplicationSubmitted"]["leader"] != first.node  # a survivor took over
    assert not publisher._died.ready() and not consumer._died.ready()  # nobody died of it

    # The same count as the broker-outage proof: every committed submission has exactly one task.
    wait_for(lambda: {a for a, _ in task_rows(consumer)} >= set(accepted), timeout=120,
             message="every accepted submission reviewed")
    tasks = [a for a, _ in task_rows(consumer)]
    with dependency(publisher, "db").engine.connect() as conn:
        submitted_ids = [row.application_id for row in conn.execute(select(submissions.c.application_id))]
    assert sorted(submitted_ids) == sorted(set(submitted_ids))  # no submission twice
    assert sorted(tasks) == sorted(submitted_ids)  # each committed submission reviewed exactly once
    assert set(accepted) == {f"c{c}-{i}" for c in range(CLIENTS) for i in range(PER_CLIENT)}  # none lost

    # Replacing the lost node, as docs/operations.md (section 10) says: forget it, join a blank node,
    # give every quorum queue a replica there again.
    survivor.ctl("forget_cluster_node", first.node)
    assert all(len(q["members"]) == 2 for name, q in queues(survivor).items() if name in OURS)
    fresh = private_cluster.new_node()
    fresh.join(survivor)
    survivor.queues_ctl("grow", fresh.node, "all")
    members = sorted(n.node for n in private_cluster.nodes[1:])
    assert all(sorted(q["members"]) == members for name, q in queues(survivor).items() if name in OURS)
    assert submit(uri, "after-replacement")
    wait_for(lambda: "after-replacement" in {a for a, _ in task_rows(consumer)}, timeout=60,
             message="the services to work on with the new node")
