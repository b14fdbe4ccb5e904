"""python -m services.identity run | create-staff --role reviewer|admin|security_admin|auditor --phone 13800138000 [--password ...]

`run` starts the nameko service (JSON logs, SIGTERM/Ctrl-C stop it gracefully; a clear message and
exit code 3 when RabbitMQ is not reachable). `create-staff` opens the identity database directly
(config from the environment, like the service); without --password it prints a generated one.
"""
import eventlet

eventlet.monkey_patch()

import argparse  # noqa: E402
import os  # noqa: E402
import sys  # noqa: E402

from eventlet import tpool  # noqa: E402

from services.common import migrations  # noqa: E402
from services.common.config import ConfigError, service_config  # noqa: E402
from services.common.crypto import DataCipher  # noqa: E402
from services.common.db import UnitOfWork, create_schema, make_engine  # noqa: E402
from services.common.masking import mask_phone  # noqa: E402
from services.common.runner import run  # noqa: E402
from services.contracts.errors import DomainError  # noqa: E402
from services.contracts.roles import ROLE_LABELS, STAFF_ACCOUNT_ROLES  # noqa: E402

from . import handlers  # noqa: E402
from .models import Base  # noqa: E402
from .repository import repositories  # noqa: E402
from .service import IdentityService  # noqa: E402
from .settings import IdentitySettings  # noqa: E402


def bound_the_thread_pool():
    """Keep the resident memory of many concurrent logins bounded.

    Each argon2id verify allocates a 19 MiB block on an eventlet.tpool thread. glibc keeps each
    thread's freed block for reuse (once one is freed, its dynamic mmap threshold rises past 19 MiB):
    fast, but resident memory grows with the pool, about 460 MiB with eventlet's default 20 threads.
    Beyond two threads per core argon2 gains no throughput, so 2 per core (2 to 8) bound it at
    about 4 x 19 MiB on this 2-core machine. A fixed mmap threshold would return every block at
    once but costs 30-45% of argon2 throughput (page faults). EVENTLET_THREADPOOL_SIZE, when set, wins.
    """
    if "EVENTLET_THREADPOOL_SIZE" not in os.environ:
        tpool.set_num_threads(min(8, max(2, 2 * (os.cpu_count() or 1))))


def parse_args(argv):
    parser = argparse.ArgumentParser(prog="python -m services.identity",
                                     description="身份服务 / identity service")
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("run", help="启动身份服务 / start the identity service")
    staff = commands.add_parser("create-staff", help="创建工作人员账号 / create a staff account")
    staff.add_argument("--role", required=True, choices=sorted(STAFF_ACCOUNT_ROLES),
                       help="reviewer 审核员 | admin 系统管理员 | security_admin 安全管理员 | auditor 审计员")
    staff.add_argument("--phone", required=True, help="手机号 / mobile number")
    staff.add_argument("--password", help="初始密码；不填则生成随机密码 / initial password (generated when omitted)")
    return parser.parse_args(argv)


def offline(config):
    """(unit-of-work factory, settings, engine) on the service's database without nameko (no broker
    needed), for the handlers as the service calls them. Events written here wait in the outbox
    until the service's relay runs."""
    engine = make_engine(config["DATABASE_URL"])
    schema = config.get("DB_SCHEMA", "migrate")  # as the Database provider does at start
    if schema == "migrate" and migrations.owns("identity", Base.metadata):
        migrations.upgrade(engine, Base.metadata, "identity")
    elif schema in ("migrate", "create"):
        create_schema(engine, Base.metadata)
    cipher = DataCipher.from_config(config)
    return (lambda: UnitOfWork(engine, Base.metadata, cipher=cipher, repositories=repositories),
            IdentitySettings.from_config(config), engine)


def create_staff(args):
    try:
        config = service_config("identity")
        uow_factory, settings, engine = offline(config)
    except ConfigError as exc:
        print(f"identity: {exc}", file=sys.stderr)
        return 2
    generated = args.password is None
    password = handlers.generate_password() if generated else args.password
    try:
        answer = handlers.create_staff(uow_factory, settings, args.phone, args.role, password)
    except DomainError as exc:
        print(f"未能创建账号 / not created: {exc.message} ({exc.code})", file=sys.stderr)
        return 1
    finally:
        engine.dispose()
    print(f"已创建{ROLE_LABELS[args.role]}账号 / {args.role} account created: {answer['account_id']} "
          f"({mask_phone(args.phone)})")
    if generated:
        print(f"初始密码（只显示这一次，请安全转交并尽快修改）/ initial password, shown once: {password}")
    print("首次登录时需绑定动态口令（TOTP）并保存恢复码 / at the first login this account enrols a TOTP "
          "authenticator and is shown its recovery codes")
    return 0


def main(argv):
    args = parse_args(argv)
    if args.command == "run":
        bound_the_thread_pool()
        return run(IdentityService)
    return create_staff(args)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
