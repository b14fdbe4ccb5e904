"""A private RabbitMQ node for tests that stop the broker: its own node name, ports, data dir and
Erlang cookie, so stopping it disturbs nobody else on the machine (the shared broker on 5672 is
never touched).

    def test_x(private_rabbit):
        uri = private_rabbit.amqp_uri          # amqp://guest:guest@127.0.0.1:<port>/
        private_rabbit.stop_app()              # listeners close: clients see ECONNREFUSED
        private_rabbit.start_app()             # back, with its durable queues and messages

    def test_y(private_cluster):               # three such nodes joined into one cluster
        uri = private_cluster.amqp_uri         # "amqp://...:<p1>/;amqp://...:<p2>/;..." (kombu fail-over)
        private_cluster.nodes[0].kill()        # a node lost (SIGKILL): the other two carry on

Start-up takes 10–40 s on a busy machine; use it in the slow tier (`@pytest.mark.slow`).
"""
import os
import shutil
import socket
import subprocess
import uuid

import pytest

SERVER = shutil.which("rabbitmq-server", path="/usr/lib/rabbitmq/bin") or shutil.which("rabbitmq-server")
CTL = shutil.which("rabbitmqctl", path="/usr/lib/rabbitmq/bin") or shutil.which("rabbitmqctl")
QUEUES = shutil.which("rabbitmq-queues", path="/usr/lib/rabbitmq/bin") or shutil.which("rabbitmq-queues")


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class PrivateRabbit:
    """`management=True`: the management plugin (HTTP API) on a free port, `management_url`.
    `extra_conf`: more rabbitmq.conf lines (a TLS listener: tests/ops/test_outside_subscribers.py)."""

    def __init__(self, base_dir, cookie=None, management=False, extra_conf=""):
        self.base = base_dir
        self.node = f"test-{uuid.uuid4().hex[:10]}@localhost"
        self.port = _free_port()
        self.amqp_uri = f"amqp://guest:guest@127.0.0.1:{self.port}/"
        for sub in ("mnesia", "log"):
            os.makedirs(os.path.join(base_dir, sub), exist_ok=True)
        conf = f"listeners.tcp.default = 127.0.0.1:{self.port}\n"
        self.management_url = None
        if management:  # on a port of its own: nothing to clash with the shared node's 15672
            management_port = _free_port()
            self.management_url = f"http://127.0.0.1:{management_port}"
            conf += f"management.tcp.ip = 127.0.0.1\nmanagement.tcp.port = {management_port}\n"
        self._write("enabled_plugins", "[rabbitmq_management].\n" if management else "[].\n")
        self._write("rabbitmq.conf", conf + extra_conf)
        self._write("rabbitmq-env.conf", "")  # not /etc/rabbitmq's, which names the shared node
        if cookie:  # nodes of one cluster share it; otherwise Erlang makes one up in HOME
            path = os.path.join(base_dir, ".erlang.cookie")
            self._write(".erlang.cookie", cookie)
            os.chmod(path, 0o400)
        self.env = {
            **os.environ, "HOME": base_dir,  # the Erlang cookie lives here, not the shared node's
            "RABBITMQ_NODENAME": self.node, "RABBITMQ_NODE_PORT": str(self.port),
            "RABBITMQ_DIST_PORT": str(_free_port()),
            "RABBITMQ_MNESIA_BASE": os.path.join(base_dir, "mnesia"),
            "RABBITMQ_LOG_BASE": os.path.join(base_dir, "log"),
            "RABBITMQ_ENABLED_PLUGINS_FILE": os.path.join(base_dir, "enabled_plugins"),
            "RABBITMQ_CONFIG_FILE": os.path.join(base_dir, "rabbitmq.conf"),
            "RABBITMQ_CONF_ENV_FILE": os.path.join(base_dir, "rabbitmq-env.conf"),
            "RABBITMQ_PID_FILE": os.path.join(base_dir, "rabbitmq.pid"),
            "ERL_EPMD_ADDRESS": "127.0.0.1",
            "ERL_FLAGS": "-kernel inet_dist_use_interface {127,0,0,1}",
        }
        self.process = None

    def _write(self, name, text):
        with open(os.path.join(self.base, name), "w") as f:
            f.write(text)

    def ctl(self, *args, timeout=120, tool=CTL):
        return subprocess.run([tool, "-n", self.node, *args], env=self.env, check=True, capture_output=True,
                              text=True, timeout=timeout)

    def queues_ctl(self, *args):
        """rabbitmq-queues on this node (quorum queue membership: grow, shrink, check_if_node_is_quorum_critical)."""
        return self.ctl(*args, tool=QUEUES)

    def start(self):
        self.launch()
        self.wait_booted()
        return self

    def launch(self):
        log = open(os.path.join(self.base, "server.out"), "w")
        self.process = subprocess.Popen([SERVER], env=self.env, stdout=log, stderr=subprocess.STDOUT, cwd=self.base,
                                        start_new_session=True)

    def wait_booted(self):
        # `wait` polls until the node wrote its pid file and booted (await_startup fails at once
        # while the node is not yet registered with epmd).
        self.ctl("wait", self.env["RABBITMQ_PID_FILE"], "--timeout", "180", timeout=240)

    def stop_app(self):
        self.ctl("stop_app")

    def join(self, other):
        """Join the cluster `other` belongs to (its data is reset: a blank node's is empty anyway)."""
        self.ctl("stop_app")
        self.ctl("join_cluster", other.node)
        self.start_app()

    def kill(self):
        """The node is lost: SIGKILL, no goodbye to its clients or its peers."""
        os.killpg(self.process.pid, 9)
        self.process.wait()
        self.process = None

    def start_app(self):
        self.ctl("start_app")
        self.ctl("await_startup")

    def stop(self):
        if self.process is None:
            return
        try:
            self.ctl("stop", timeout=60)
        except Exception:  # noqa: BLE001 — not answering: end it by its own process group
            pass
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, 9)
            self.process.wait()
        self.process = None


class PrivateCluster:
    """Three (or `size`) private nodes with one Erlang cookie, joined into one cluster."""

    def __init__(self, base_dir, size=3):
        self.base, self.cookie = base_dir, uuid.uuid4().hex.upper()
        self.nodes = [PrivateRabbit(os.path.join(base_dir, f"node{i + 1}"), cookie=self.cookie) for i in range(size)]
        self.amqp_uri = ";".join(node.amqp_uri for node in self.nodes)

    def new_node(self):
        """A blank node with the cluster's cookie, started but not joined (a replacement)."""
        node = PrivateRabbit(os.path.join(self.base, f"node{len(self.nodes) + 1}"), cookie=self.cookie)
        self.nodes.append(node)
        return node.start()

    def start(self):
        for node in self.nodes:  # boot in parallel, then wait for each
            node.launch()
        for node in self.nodes:
            node.wait_booted()
        for node in self.nodes[1:]:
            node.join(self.nodes[0])
        return self

    def running_nodes(self, via):
        """Names of the cluster's running nodes, as the node `via` sees them."""
        import json
        status = json.loads(via.ctl("cluster_status", "--formatter", "json").stdout)
        return sorted(status["running_nodes"])

    def stop(self):
        for node in self.nodes:
            node.stop()


def _needs_rabbitmq():
    if not (SERVER and CTL):
        pytest.skip("needs rabbitmq-server on this machine (Debian: apt-get install rabbitmq-server)")


@pytest.fixture
def private_rabbit(tmp_path_factory):
    _needs_rabbitmq()
    node = PrivateRabbit(str(tmp_path_factory.mktemp("rabbit")))
    try:  # a node that did not boot in time is stopped too, not left running
        node.start()
        yield node
    finally:
        node.stop()


@pytest.fixture
def private_cluster(tmp_path_factory):
    _needs_rabbitmq()
    cluster = PrivateCluster(str(tmp_path_factory.mktemp("rabbit-cluster")))
    try:
        cluster.start()
        yield cluster
    finally:
        cluster.stop()


def _private_config(amqp_uri, database_url, tmp_path):
    from services.common.config import service_config

    def make(service, **overrides):
        config = service_config(service, environ={"VAR_DIR": str(tmp_path / "var"), "AMQP_URI": amqp_uri})
        config["DATABASE_URL"] = database_url(service)
        config.update(overrides)
        return config
    return make


@pytest.fixture
def make_private_config(private_rabbit, database_url, tmp_path):
    """make_config's twin on the private node (its default vhost: the node is this test's alone)."""
    return _private_config(private_rabbit.amqp_uri, database_url, tmp_path)


@pytest.fixture
def make_cluster_config(private_cluster, database_url, tmp_path):
    """make_config's twin on the private cluster: AMQP_URI lists every node, queues are quorum queues."""
    make = _private_config(private_cluster.amqp_uri, database_url, tmp_path)
    return lambda service, **overrides: make(service, **{"QUORUM_QUEUES": "1", **overrides})
