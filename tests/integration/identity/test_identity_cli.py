"""`python -m services.identity create-staff` and `run`, as an operator runs them."""
import json
import os
import re
import signal
import subprocess
import sys
from pathlib import Path

from nameko.standalone.rpc import ClusterRpcProxy

from tests.support import staff_signin
from tests.support.infra import wait_for

ROOT = Path(__file__).resolve().parents[3]


def cli(args, env, timeout=60):
    return subprocess.run([sys.executable, "-m", "services.identity", *args], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=timeout)


def environment(config, tmp_path, **extra):
    env = {k: v for k, v in os.environ.items() if not k.endswith("_DATABASE_URL")}
    env.update(PYTHONPATH=str(ROOT), VAR_DIR=str(tmp_path / "var"), AMQP_URI=config["AMQP_URI"],
               IDENTITY_DATABASE_URL=config["DATABASE_URL"])
    env.update(extra)
    return env


def test_create_staff_then_log_in(make_config, start_identity, tmp_path):
    config = make_config("identity")
    env = environment(config, tmp_path)
    done = cli(["create-staff", "--role", "reviewer", "--phone", "13700000002", "--password", "Rev1ewer-pass"], env)
    assert done.returncode == 0, done.stderr
    assert "137****0002" in done.stdout and "13700000002" not in done.stdout
    generated = cli(["create-staff", "--role", "admin", "--phone", "13700000001"], env)
    assert generated.returncode == 0, generated.stderr
    password = re.search(r"initial password, shown once: (\S+)", generated.stdout).group(1)
    again = cli(["create-staff", "--role", "admin", "--phone", "13700000001", "--password", "Adm1n-passw0rd"], env)
    assert again.returncode == 1 and "该手机号已有账号" in again.stderr
    weak = cli(["create-staff", "--role", "admin", "--phone", "13700000003", "--password", "123"], env)
    assert weak.returncode == 1 and "密码不符合要求" in weak.stderr
    bad_role = cli(["create-staff", "--role", "applicant", "--phone", "13700000003"], env)
    assert bad_role.returncode == 2

    harness = start_identity(DATABASE_URL=config["DATABASE_URL"])
    with harness.rpc() as api:
        assert staff_signin.via_rpc(api, "13700000002", "Rev1ewer-pass")["principal"]["roles"] == ["reviewer"]
        assert staff_signin.via_rpc(api, "13700000001", password)["principal"]["roles"] == ["admin"]


def test_run_says_how_to_start_rabbitmq_when_it_is_away(make_config, tmp_path):
    config = make_config("identity")
    env = environment(config, tmp_path, AMQP_URI="amqp://guest:guest@127.0.0.1:1/")
    done = cli(["run"], env)
    assert done.returncode == 3
    assert "无法连接消息中间件 RabbitMQ" in done.stderr and "RabbitMQ is not reachable" in done.stderr
    assert "rabbitmq-server" in done.stderr and "guest:guest" not in done.stderr


def test_run_serves_rpc_and_stops_gracefully_on_sigterm(make_config, tmp_path):
    config = make_config("identity")
    proc = subprocess.Popen([sys.executable, "-m", "services.identity", "run"], cwd=ROOT,
                            env=environment(config, tmp_path), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True)
    try:
        def healthy():
            try:
                with ClusterRpcProxy({"AMQP_URI": config["AMQP_URI"]}) as cluster:
                    return cluster.identity.health()
            except Exception:  # noqa: BLE001 — not up yet
                return None

        assert wait_for(healthy, timeout=60, interval=0.5, message="identity health") == {
            "service": "identity", "status": "ok"}
        proc.send_signal(signal.SIGTERM)
        _, stderr = proc.communicate(timeout=45)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0, stderr
    lines = [json.loads(line) for line in stderr.splitlines() if line.startswith("{")]
    messages = [entry["message"] for entry in lines if entry["service"] == "identity"]
    assert "identity started" in messages and "identity stopping" in messages
