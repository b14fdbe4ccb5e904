"""Configuration from environment variables, with development defaults.

In production (APP_ENV=production) the service refuses to start while any secret still has its
development value: a forgotten variable must stop the deploy, not leak data.
"""
import os

DEV_SECRETS = {
    # key id "dev" + 32 zero-ish bytes, base64; only ever valid in development
    "DATA_KEYS": "dev:ZGV2LWRhdGEta2V5LW5vdC1mb3ItcHJvZHVjdGlvbiE=",
    "BLIND_INDEX_KEY": "dev-blind-index-key-not-for-production",
    "CODE_HASH_KEY": "dev-code-hash-key-not-for-production",
    "CSRF_SECRET": "dev-csrf-secret-not-for-production",
}

DEFAULTS = {
    "APP_ENV": "development",
    "AMQP_URI": "amqp://guest:guest@127.0.0.1:5672/",
    "VAR_DIR": "var",
    "LOG_LEVEL": "INFO",
    "EVENT_MAX_ATTEMPTS": "5",
    "OUTBOX_BATCH": "500",
    "OUTBOX_POLL_SECONDS": "0.5",
    "MAX_WORKERS": "20",
    **DEV_SECRETS,
}


class ConfigError(RuntimeError):
    pass


def env(name, environ=None):
    environ = os.environ if environ is None else environ
    return environ.get(name, DEFAULTS.get(name))


def database_url(service, environ=None):
    """<SERVICE>_DATABASE_URL wins; else a SQLite file per service under VAR_DIR."""
    environ = os.environ if environ is None else environ
    url = environ.get(f"{service.upper()}_DATABASE_URL")
    if url:
        return url
    var_dir = os.path.abspath(env("VAR_DIR", environ))
    return f"sqlite:///{var_dir}/{service}.db"


def service_config(service, environ=None, **overrides):
    """The nameko config dict of one service. Our own keys live beside nameko's."""
    environ = os.environ if environ is None else environ
    config = {key: env(key, environ) for key in DEFAULTS}
    config.update({key: value for key, value in environ.items() if key.isupper()})
    config.update(
        SERVICE_NAME=service,
        DATABASE_URL=database_url(service, environ),
        max_workers=int(env("MAX_WORKERS", environ)),
        serializer="json",
    )
    config.update(overrides)
    check_production(config)
    return config


def check_production(config):
    if config.get("APP_ENV") != "production":
        return
    weak = [key for key, value in DEV_SECRETS.items() if config.get(key) in (None, "", value)]
    if weak:
        raise ConfigError(
            "refusing to start in production with development secrets: " + ", ".join(sorted(weak))
            + " — set them in the environment (see .env.example)")
    if "guest:guest@" in config.get("AMQP_URI", ""):
        raise ConfigError("refusing to start in production with the RabbitMQ guest account (AMQP_URI)")
