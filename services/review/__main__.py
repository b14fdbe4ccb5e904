"""python -m services.review run | purge --older-than-days N

`run` starts the nameko service (JSON logs, SIGTERM/Ctrl-C stop it gracefully; a clear message and
exit code 3 when RabbitMQ is not reachable). `purge` is the retention command: it removes the
ID-card and certificate image files (and thumbnails) of applications approved more than N days
ago, keeps each material's row and verdict and sets its purged_at. It opens the review database
and image store directly (config from the environment, like the service); no broker needed.
"""
import eventlet

eventlet.monkey_patch()

import argparse  # noqa: E402
import json  # noqa: E402
import sys  # noqa: E402

from services.common.config import ConfigError, service_config  # noqa: E402
from services.common.runner import run  # noqa: E402
from services.review.service import ReviewService  # noqa: E402


def parse_args(argv):
    parser = argparse.ArgumentParser(prog="python -m services.review", description="审核服务 / review service")
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("run", help="启动审核服务 / start the review service")
    purge = commands.add_parser("purge", help="按保存期限删除身份证与证书图片 / retention: delete ID-card and "
                                              "certificate images of applications approved long enough ago")
    purge.add_argument("--older-than-days", type=int, required=True, metavar="N",
                       help="审核通过超过N天的申请 / applications approved more than N days ago")
    return parser.parse_args(argv)


def offline(config):
    """(unit-of-work factory, image store, engine) on the service's database and store without nameko."""
    from services.common import migrations
    from services.common.crypto import DataCipher
    from services.common.db import UnitOfWork, create_schema, make_engine

    from .adapters.storage import MaterialStore
    from .models import Base
    from .repository import repositories
    from .settings import ReviewSettings

    engine = make_engine(config["DATABASE_URL"])
    if migrations.owns("review", Base.metadata):
        migrations.upgrade(engine, Base.metadata, "review")
    else:
        create_schema(engine, Base.metadata)
    cipher = DataCipher.from_config(config)
    store = MaterialStore(ReviewSettings.from_config(config).materials_dir, cipher)
    return (lambda: UnitOfWork(engine, Base.metadata, cipher=cipher, repositories=repositories)), store, engine


def purge(args, config=None):
    from services.common import clock

    from . import uploads

    if args.older_than_days < 0:
        print("--older-than-days 应为不小于0的整数 / must be 0 or more", file=sys.stderr)
        return 2
    try:
        config = config or service_config("review")
    except ConfigError as exc:
        print(f"review: {exc}", file=sys.stderr)
        return 2
    uow_factory, store, engine = offline(config)
    try:
        answer = uploads.purge_materials(uow_factory, store, args.older_than_days, clock.now())
    finally:
        engine.dispose()
    print(json.dumps(answer, ensure_ascii=False))
    return 0


def main(argv, config=None):
    args = parse_args(argv)
    if args.command == "run":
        return run(ReviewService)
    return purge(args, config)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
