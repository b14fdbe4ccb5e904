"""What the tests need, checked in a second before any test runs: one line each, with the fix.

    python tests/preflight.py [--postgres]
"""
import os
import shutil
import socket
import subprocess
import sys
import urllib.request

HOST = os.environ.get("TEST_RABBIT_HOST", "127.0.0.1")


def port_open(port, host=HOST):
    try:
        with socket.create_connection((host, port), timeout=2):
            return True
    except OSError:
        return False


def management_api():
    request = urllib.request.Request(f"http://{HOST}:15672/api/overview",
                                     headers={"Authorization": "Basic Z3Vlc3Q6Z3Vlc3Q="})  # guest:guest
    try:
        with urllib.request.urlopen(request, timeout=3) as answer:
            return answer.status == 200
    except OSError:
        return False


def cjk_font():
    try:
        return "wqy" in subprocess.run(["fc-list"], capture_output=True, text=True, timeout=10).stdout.lower()
    except OSError:
        return False


def main(argv):
    checks = [
        (port_open(5672), "RabbitMQ is not listening on 127.0.0.1:5672 — start it: rabbitmq-server -detached"),
        (management_api(), "RabbitMQ's management API (port 15672) does not answer; the tests make a vhost per test "
                           "through it — enable it: rabbitmq-plugins enable rabbitmq_management"),
        (shutil.which("chromium") is not None, "chromium is missing for the browser tests — "
                                               "apt-get install chromium fonts-wqy-zenhei"),
        (cjk_font(), "no CJK font: pages would render as boxes in screenshots — apt-get install fonts-wqy-zenhei"),
    ]
    if "--postgres" in argv:
        checks.append((port_open(5432, "127.0.0.1"), "PostgreSQL is not listening on 127.0.0.1:5432 — start it: "
                                                     "pg_ctlcluster <version> main start"))
    missing = [fix for ok, fix in checks if not ok]
    for fix in missing:
        print(f"preflight: {fix}", file=sys.stderr)
    return 1 if missing else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
