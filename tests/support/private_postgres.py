"""A private PostgreSQL cluster for tests that stop or restart the database: its own data dir,
port and unix socket dir, trust authentication, so stopping it disturbs nobody else on the
machine (the shared PostgreSQL on 5432 is never touched).

    def test_x(private_postgres):
        url = private_postgres.database_url("registration")  # a fresh, empty database
        private_postgres.stop()        # immediate: every connection cut, crash recovery on start
        private_postgres.start()       # back on the same port, with everything committed

initdb and postgres refuse to run as root: as root they run as the `postgres` user, in a
directory that user owns. Start-up takes a few seconds; use it in the slow tier (`@pytest.mark.slow`).
"""
import glob
import os
import pwd
import shutil
import subprocess
import tempfile
import uuid

import psycopg2
import pytest

from tests.support.private_broker import _free_port


def _bin_dir():
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    return os.path.dirname(found[-1]) if found else None


class PrivatePostgres:
    def __init__(self, bin_dir):
        self.bin = bin_dir
        self.port = _free_port()
        # Not under pytest's tmp dir: that is private to root, and the server may run as `postgres`.
        self.base = tempfile.mkdtemp(prefix="private-postgres-")
        self.data, self.sockets = os.path.join(self.base, "data"), os.path.join(self.base, "run")
        self.log = os.path.join(self.base, "server.log")
        os.makedirs(self.sockets)
        self.as_user = []
        if os.geteuid() == 0:
            owner = pwd.getpwnam("postgres")
            for path in (self.base, self.sockets):
                os.chown(path, owner.pw_uid, owner.pw_gid)
            self.as_user = ["runuser", "-u", "postgres", "--"]
        self.running = False

    def _run(self, tool, *args, timeout=120):
        return subprocess.run([*self.as_user, os.path.join(self.bin, tool), *args], check=True,
                              capture_output=True, text=True, timeout=timeout, cwd=self.base)

    def init(self):
        self._run("initdb", "-D", self.data, "-U", "postgres", "--auth=trust", "-E", "UTF8",
                  "--locale=C.UTF-8", "--no-sync")
        return self

    def start(self):
        # fsync off: the drills kill the server, not the machine; what a killed server wrote is in the
        # OS cache, and crash recovery on the next start reads it back.
        options = (f"-p {self.port} -k {self.sockets} -c listen_addresses=127.0.0.1 -c fsync=off "
                   "-c full_page_writes=off -c max_connections=200 -c shared_buffers=32MB")
        self._run("pg_ctl", "start", "-w", "-t", "120", "-D", self.data, "-l", self.log, "-o", options,
                  timeout=180)
        self.running = True
        return self

    def stop(self, mode="immediate"):
        """immediate: no goodbye to clients, no checkpoint (a crash, as far as they can tell); fast:
        clients are disconnected and a checkpoint is written."""
        self._run("pg_ctl", "stop", "-w", "-t", "120", "-D", self.data, "-m", mode, timeout=180)
        self.running = False

    def restart(self, mode="immediate"):
        self.stop(mode)
        self.start()

    def dsn(self, dbname="postgres"):
        return f"host=127.0.0.1 port={self.port} user=postgres dbname={dbname}"

    def url(self, dbname):
        return f"postgresql+psycopg2://postgres@127.0.0.1:{self.port}/{dbname}"

    def database_url(self, service):
        """A fresh, empty database for `service` (the shared database_url fixture's twin)."""
        name = f"t_{uuid.uuid4().hex[:10]}_{service}"
        conn = psycopg2.connect(self.dsn())
        try:
            conn.autocommit = True
            conn.cursor().execute(f'CREATE DATABASE "{name}"')
        finally:
            conn.close()
        return self.url(name)

    def destroy(self):
        try:
            if self.running:
                self.stop("immediate")
        finally:
            shutil.rmtree(self.base, ignore_errors=True)


@pytest.fixture
def private_postgres():
    bin_dir = _bin_dir()
    if not bin_dir:
        pytest.skip("needs PostgreSQL's server binaries (Debian: apt-get install postgresql)")
    cluster = PrivatePostgres(bin_dir)
    try:
        cluster.init().start()
        yield cluster
    finally:
        cluster.destroy()
