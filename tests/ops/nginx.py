"""A real nginx (Debian's package) running the shipped template, for the proxy tests.

The template is rendered the way the official image's entrypoint renders it: `envsubst` limited to
the variables that match NGINX_ENVSUBST_FILTER. Only the main file around it is the test's own
(pid, logs and temporary files under the test's directory, instead of the image's /etc/nginx).
"""
import datetime
import ipaddress
import os
import pathlib
import pwd
import re
import shutil
import subprocess

import yaml
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

ROOT = pathlib.Path(__file__).resolve().parents[2]
TEMPLATE = ROOT / "deploy" / "nginx" / "templates" / "default.conf.template"
NGINX = shutil.which("nginx") or "/usr/sbin/nginx"
INSTALL_HINT = "nginx is not installed: apt-get install -y --no-install-recommends nginx (.ci/run does)"


def compose_proxy_environment():
    doc = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    return doc["services"]["proxy"]["environment"]


def self_signed_certificate(directory, host="localhost"):
    """A fresh key and certificate for `host` and 127.0.0.1, written as PEM files."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, host)])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(minutes=5))
            .not_valid_after(now + datetime.timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName([x509.DNSName(host),
                                                        x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
                           critical=False)
            .sign(key, hashes.SHA256()))
    cert_path, key_path = pathlib.Path(directory) / "fullchain.pem", pathlib.Path(directory) / "privkey.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return cert_path, key_path


def render(values, filter_regex):
    """envsubst over the template with exactly the variables the image's entrypoint would pass."""
    names = [name for name in values if re.search(filter_regex, name)]
    shell_format = " ".join("${%s}" % name for name in names)
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), **values}
    return subprocess.run(["envsubst", shell_format], input=TEMPLATE.read_text(), env=env, text=True,
                          capture_output=True, check=True).stdout


class Nginx:
    def __init__(self, directory, values):
        """directory: a private prefix; values: the NGINX_* variables, as compose would set them."""
        self.dir = pathlib.Path(directory)
        for sub in ("conf.d", "logs", "tmp"):
            (self.dir / sub).mkdir(parents=True, exist_ok=True)
        environment = compose_proxy_environment()
        self.rendered = render(values, environment.get("NGINX_ENVSUBST_FILTER", ""))
        (self.dir / "conf.d" / "default.conf").write_text(self.rendered)
        user = f"user {pwd.getpwuid(os.getuid()).pw_name};" if os.getuid() == 0 else ""
        d = self.dir
        (d / "nginx.conf").write_text(f"""{user}
worker_processes 1;
pid {d}/nginx.pid;
error_log {d}/logs/error.log warn;
events {{ worker_connections 256; }}
http {{
    access_log {d}/logs/access.log;
    client_body_temp_path {d}/tmp/body;
    proxy_temp_path {d}/tmp/proxy;
    fastcgi_temp_path {d}/tmp/fastcgi;
    uwsgi_temp_path {d}/tmp/uwsgi;
    scgi_temp_path {d}/tmp/scgi;
    include {d}/conf.d/*.conf;
}}
""")
        self.process = None

    def _args(self, *extra):
        return [NGINX, "-p", str(self.dir), "-c", str(self.dir / "nginx.conf"), *extra]

    def check(self):
        """`nginx -t`: (ok, what nginx said)."""
        done = subprocess.run(self._args("-t"), capture_output=True, text=True)
        return done.returncode == 0, done.stderr

    def start(self):
        self.process = subprocess.Popen(self._args("-g", "daemon off;"), stdout=subprocess.PIPE,
                                        stderr=subprocess.STDOUT)

    def stop(self):
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()

    def error_log(self):
        path = self.dir / "logs" / "error.log"
        return path.read_text() if path.exists() else ""
