"""RPC replies go out without publisher confirms (services.common.runner), and still arrive."""
import pytest
from nameko.amqp import publish
from nameko.rpc import rpc
from nameko.standalone.rpc import ClusterRpcProxy

from services.common.runner import forgive_lost_rpc_replies

pytestmark = pytest.mark.integration


class Echo:
    name = "echo"

    @rpc
    def echo(self, value):
        return {"echo": value}


def test_a_reply_without_a_confirm_still_arrives(make_config, start_service, monkeypatch):
    forgive_lost_rpc_replies()  # as services.common.runner.run does
    producers = []
    real = publish.get_producer

    def spy(amqp_uri, confirms=True, *args, **kwargs):
        producers.append(confirms)
        return real(amqp_uri, confirms, *args, **kwargs)

    monkeypatch.setattr(publish, "get_producer", spy)
    config = make_config("echo")
    start_service(Echo, config)
    with ClusterRpcProxy({"AMQP_URI": config["AMQP_URI"]}, timeout=10) as cluster:
        answers = [cluster.echo.echo(f"第{i}次") for i in range(20)]
    assert answers == [{"echo": f"第{i}次"} for i in range(20)]
    # the caller's requests (ClusterRpcProxy) keep their confirms; the service's 20 replies have none
    assert producers.count(False) == 20
