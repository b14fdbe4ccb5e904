"""docker-compose.yml is valid Compose and runs exactly what `make run` runs (no engine here to try it)."""
import json
import pathlib
import re

import jsonschema
import yaml

from services.__main__ import SERVICES
from services.common.config import DEV_SECRETS

ROOT = pathlib.Path(__file__).resolve().parents[2]


def compose():
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())


def test_compose_file_is_valid_against_the_compose_spec():
    schema = json.loads((ROOT / "deploy" / "compose-spec.json").read_text())
    jsonschema.validate(compose(), schema)


def test_each_service_container_runs_the_make_run_command_and_is_health_checked():
    doc = compose()
    for name in SERVICES:
        service = doc["services"][name]
        assert service["command"] == ["python", "-m", f"services.{name}", "run"]
        assert service["healthcheck"]["test"]
        assert service["depends_on"]["rabbitmq"]["condition"] == "service_healthy"
        assert (ROOT / "services" / name / "__main__.py").exists() or name != "gateway"
    assert doc["services"]["rabbitmq"]["image"].endswith("-management")
    assert set(doc["volumes"]) >= {"rabbitmq-data", "postgres-data"}


def test_each_service_has_its_own_database():
    doc = compose()
    init = (ROOT / "deploy" / "postgres" / "init.sql").read_text()
    for name in SERVICES:
        if name == "gateway":
            continue
        url = doc["services"][name]["environment"][f"{name.upper()}_DATABASE_URL"]
        assert url.endswith(f"/{name}")
        assert re.search(rf"CREATE DATABASE {name};", init)


def test_env_example_names_every_secret_and_runs_in_production_mode():
    lines = dict(line.split("=", 1) for line in (ROOT / ".env.example").read_text().splitlines()
                 if line and not line.startswith("#"))
    assert lines["APP_ENV"] == "production"
    for key in DEV_SECRETS:
        assert key in lines and lines[key] != DEV_SECRETS[key]


def test_only_tls_listeners_are_published_and_the_gateway_trusts_only_the_proxy():
    doc = compose()
    # everything else published (management UI, Prometheus, Grafana) is on the host's loopback only;
    # outside subscribers reach the broker by AMQPS (5671), never plain AMQP
    public = {"proxy": [], "rabbitmq": ["5671:5671"]}
    for name, service in doc["services"].items():
        if name != "proxy":
            ports = [str(port) for port in service.get("ports", [])]
            assert [p for p in ports if not p.startswith("127.0.0.1:")] == public.get(name, []), name
    assert doc["services"]["proxy"]["ports"] == ["80:80", "443:443"]
    assert doc["services"]["proxy"]["image"].startswith("nginx:")
    gateway = doc["services"]["gateway"]
    assert "ports" not in gateway and "TRUST_PROXY" not in gateway["environment"]
    proxy_address = doc["services"]["proxy"]["networks"]["edge"]["ipv4_address"]
    assert gateway["environment"]["TRUSTED_PROXIES"] == proxy_address
    assert "TRUST_PROXY=" not in (ROOT / ".env.example").read_text()


def test_compose_sets_every_variable_the_nginx_template_uses():
    template = (ROOT / "deploy" / "nginx" / "templates" / "default.conf.template").read_text()
    used = set(re.findall(r"\$\{(NGINX_[A-Z_]+)\}", template))
    environment = compose()["services"]["proxy"]["environment"]
    assert used <= set(environment)
    assert all(re.search(environment["NGINX_ENVSUBST_FILTER"], name) for name in used)
    volumes = compose()["services"]["proxy"]["volumes"]
    assert "./deploy/nginx/templates:/etc/nginx/templates:ro" in volumes


def test_every_container_rotates_its_logs():
    for name, service in compose()["services"].items():
        logging = service.get("logging")
        assert logging and logging["options"]["max-size"] and int(logging["options"]["max-file"]) >= 10, name


def test_the_ops_image_matches_the_database_major_version_and_reaches_every_database():
    doc = compose()
    server_major = doc["services"]["postgres"]["image"].split(":")[1].split(".")[0]
    dockerfile = (ROOT / "deploy" / "ops" / "Dockerfile").read_text()
    assert re.search(rf"^FROM postgres:{server_major}[-.\w]*$", dockerfile, re.M)
    ops = doc["services"]["ops"]
    assert ops["profiles"] == ["ops"] and "ports" not in ops
    assert "materials:/app/var" in ops["volumes"]
    for name in SERVICES:
        if name != "gateway":
            assert ops["environment"][f"{name.upper()}_DATABASE_URL"] == \
                doc["services"][name]["environment"][f"{name.upper()}_DATABASE_URL"]


RABBIT_NODES = ("rabbitmq", "rabbitmq-2", "rabbitmq-3")


def commented_settings(text, keys):
    """The `#KEY=value` lines of .env.example's cluster block (the operator uncomments them)."""
    found = {}
    for line in text.splitlines():
        key, sep, value = line.lstrip("#").partition("=")
        if line.startswith("#") and sep and key in keys:
            found[key] = value
    return found


def test_the_cluster_profile_is_three_rabbitmq_nodes_of_one_cluster():
    doc = compose()
    nodes = {name: s for name, s in doc["services"].items() if s.get("image", "").startswith("rabbitmq:")}
    assert set(nodes) == set(RABBIT_NODES)
    assert "profiles" not in nodes["rabbitmq"]  # the one node of the default deployment is the first
    assert all(nodes[name]["profiles"] == ["cluster"] for name in RABBIT_NODES[1:])
    conf = dict(line.split(" = ", 1) for line in (ROOT / "deploy" / "rabbitmq" / "cluster.conf").read_text()
                .splitlines() if line and not line.startswith("#"))
    assert conf["cluster_formation.peer_discovery_backend"] == "classic_config"
    listed = {v for k, v in conf.items() if k.startswith("cluster_formation.classic_config.nodes.")}
    data_volumes = set()
    for name, node in nodes.items():
        # the node name is rabbit@<hostname>: fixed, or the node forgets its data when recreated
        assert node["hostname"] == name and f"rabbit@{name}" in listed
        assert "./deploy/rabbitmq/cluster.conf:/etc/rabbitmq/conf.d/30-cluster.conf:ro" in node["volumes"]
        # the one-node default needs no cookie; the cluster's extra nodes refuse to start without one
        assert node["environment"]["RABBITMQ_ERLANG_COOKIE"] == "${RABBITMQ_ERLANG_COOKIE:-}"
        if name != "rabbitmq":
            assert 'test -n "$$RABBITMQ_ERLANG_COOKIE" || {' in node["command"][2]
            assert node["command"][2].endswith("exec docker-entrypoint.sh rabbitmq-server")
        data_volumes |= {v.split(":")[0] for v in node["volumes"] if v.endswith(":/var/lib/rabbitmq")}
        assert node["healthcheck"]["test"][:2] == ["CMD", "rabbitmq-diagnostics"]
    assert len(listed) == 3 and len(data_volumes) == 3 and data_volumes <= set(doc["volumes"])
    # Outside the profile, only the first node exists: the services must not require the others.
    for name in SERVICES:
        depends = doc["services"][name]["depends_on"]
        assert depends["rabbitmq"] == {"condition": "service_healthy"}
        for other in RABBIT_NODES[1:]:
            assert depends[other] == {"condition": "service_healthy", "required": False}
        assert "profiles" not in doc["services"][name]


def test_env_example_shows_the_cluster_settings_the_services_need():
    from kombu import Connection

    from services.common.config import _amqp_problem
    text = (ROOT / ".env.example").read_text()
    assert "RABBITMQ_ERLANG_COOKIE" not in {line.split("=")[0] for line in text.splitlines()}  # one node: none
    settings = commented_settings(text, {"COMPOSE_PROFILES", "QUORUM_QUEUES", "AMQP_URI", "RABBITMQ_ERLANG_COOKIE"})
    assert settings["RABBITMQ_ERLANG_COOKIE"] == "change-me"
    assert settings["COMPOSE_PROFILES"] == "cluster" and settings["QUORUM_QUEUES"] == "1"
    uri = settings["AMQP_URI"]
    assert _amqp_problem(uri) is None  # an account of its own on every node
    # kombu fails over in the order listed: every node, on the port the nodes listen on
    assert [alt.split("@")[1] for alt in Connection(uri).alt] == [f"{n}:5672/" for n in RABBIT_NODES]


def test_prometheus_scrapes_every_rabbitmq_node_of_the_cluster_profile():
    config = yaml.safe_load((ROOT / "deploy" / "prometheus" / "prometheus.yml").read_text())
    [job] = [job for job in config["scrape_configs"] if job["job_name"] == "rabbitmq"]
    [lookup] = job["dns_sd_configs"]  # names of profiles not running resolve to nothing: no TargetDown
    assert lookup["names"] == list(RABBIT_NODES) and lookup["port"] == 15692


def test_the_amqps_listener_uses_the_operators_certificate():
    rabbitmq = compose()["services"]["rabbitmq"]
    assert "./deploy/rabbitmq/tls.conf:/etc/rabbitmq/conf.d/40-tls.conf:ro" in rabbitmq["volumes"]
    assert "${TLS_CERT_DIR:?set TLS_CERT_DIR in .env}:/etc/rabbitmq/certs:ro" in rabbitmq["volumes"]
    conf = dict(line.split(" = ", 1) for line in (ROOT / "deploy" / "rabbitmq" / "tls.conf").read_text()
                .splitlines() if line and not line.startswith("#"))
    assert conf["listeners.ssl.default"] == "5671"
    assert conf["ssl_options.certfile"] == "/etc/rabbitmq/certs/fullchain.pem"
    assert conf["ssl_options.keyfile"] == "/etc/rabbitmq/certs/privkey.pem"


def test_the_ops_commands_reach_the_brokers_management_api():
    ops = compose()["services"]["ops"]  # add-subscriber, replay-events
    assert ops["environment"]["RABBITMQ_MANAGEMENT_URL"] == "http://rabbitmq:15672"
    assert ops["depends_on"]["rabbitmq"] == {"condition": "service_healthy"}
