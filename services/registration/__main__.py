"""python -m services.registration run | seed-demo | seed-2020 | import-roster FILE | dispatch-csv FILE

`run` starts the nameko service. The admin commands open this service's database directly (the
same configuration as `run`: REGISTRATION_DATABASE_URL or var/registration.db), create the schema
when it is missing, and work through the same handlers as the RPCs; events they cause (mailing)
wait in the outbox until the service runs and relays them.
"""
import eventlet

eventlet.monkey_patch()

import argparse  # noqa: E402
import getpass  # noqa: E402
import json  # noqa: E402
import pathlib  # noqa: E402
import sys  # noqa: E402

from services.common.runner import run  # noqa: E402
from services.contracts.roles import ADMIN  # noqa: E402


def _database(config):
    from services.common import migrations
    from services.common.db import create_schema, make_engine

    from .models import Base

    engine = make_engine(config["DATABASE_URL"])
    if migrations.has_migrations("registration"):
        migrations.upgrade(engine, Base.metadata, "registration")
    else:
        create_schema(engine, Base.metadata)
    return engine


def _admin(args):
    from services.common import clock
    from services.common.config import service_config
    from services.common.crypto import DataCipher
    from services.common.db import UnitOfWork
    from services.contracts.errors import DomainError

    from . import handlers
    from .models import Base
    from .repository import repositories

    config = service_config("registration")
    engine = _database(config)
    cipher = DataCipher.from_config(config)
    principal = {"account_id": f"cli:{getpass.getuser()}", "roles": [ADMIN]}

    def uow():
        return UnitOfWork(engine, Base.metadata, cipher=cipher, repositories=repositories)

    now = clock.now()
    try:
        if args.command == "seed-demo":
            with uow() as work:
                answer = handlers.seed_demo(work, now)
        elif args.command == "seed-2020":
            with uow() as work:
                answer = handlers.seed_2020(work, now)
        elif args.command == "import-roster":
            path = pathlib.Path(args.file)
            with uow() as work:
                answer = handlers.import_roster(work, principal, path.name, path.read_bytes(), now)
        else:  # dispatch-csv
            path = pathlib.Path(args.file)
            answer = handlers.import_dispatches(uow, principal, path.name, path.read_bytes(), now)
    except DomainError as exc:
        print(json.dumps({"error": exc.to_dict()}, ensure_ascii=False, indent=2), file=sys.stderr)
        return 1
    finally:
        engine.dispose()
    print(json.dumps(answer, ensure_ascii=False, indent=2, default=str))
    return 0


def main(argv):
    parser = argparse.ArgumentParser(prog="python -m services.registration")
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("run", help="start the registration service")
    sub.add_parser("seed-demo", help="a campaign open now and a small roster (idempotent)")
    sub.add_parser("seed-2020", help="the 2020 Beijing first-registration campaign, as the notice states it")
    sub.add_parser("import-roster", help="import an exam roster (CSV or XLSX)").add_argument("file")
    sub.add_parser("dispatch-csv", help="record mailings from a CSV/XLSX (申请编号或登记证书编号, 快递公司, 运单号)"
                   ).add_argument("file")
    args = parser.parse_args(argv)
    if args.command == "run":
        from services.registration.service import RegistrationService

        return run(RegistrationService)
    return _admin(args)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
