"""python -m services.ops backup DIR | restore DIR [--republish-minutes N] | trail APPLICATION_ID
                        | rotate-keys [--batch-size N] [--max-batches N] [--status]
                        | reindex --services-stopped [--batch-size N]
                        | add-subscriber NAME [--password-stdin] [--reset-password] [--max-queue-mb N]
                        | replay-events --to NAME --since TIME

Run with the same environment as the services (the <SERVICE>_DATABASE_URL variables, VAR_DIR or
MATERIALS_DIR, DATA_KEYS); in compose: `docker compose run --rm ops backup /backups/<date>`.
Only add-subscriber and replay-events use the broker (AMQP_URI, RABBITMQ_MANAGEMENT_URL).
Exit 0 on success, 2 on a refusal (the message says why and what to do).
"""
import argparse
import json
import sys

from .backup import Site, backup, restore
from .broker import BrokerError
from .databases import BackupError


def parse_args(argv):
    parser = argparse.ArgumentParser(prog="python -m services.ops", description="运维命令 / operations")
    commands = parser.add_subparsers(dest="command", required=True)
    b = commands.add_parser("backup", help="备份所有服务数据库与材料到新目录 / back up every database and the materials")
    b.add_argument("directory")
    r = commands.add_parser("restore", help="从备份目录恢复到空数据库 / restore a backup into empty databases")
    r.add_argument("directory")
    r.add_argument("--republish-minutes", type=int, default=10, metavar="N",
                   help="备份开始前N分钟内已发出的事件在恢复后重新发布（消费者按id去重）/ events sent within N "
                        "minutes before the backup are published again (default 10)")
    t = commands.add_parser("trail", help="按申请编号列出一份申请在各服务的轨迹（不含个人信息）/ one application's "
                                          "trail across the services, without personal data")
    t.add_argument("application_id")
    k = commands.add_parser("rotate-keys", help="把所有加密数据与材料文件重新加密到最新的数据密钥（DATA_KEYS 第一项）"
                                                "/ re-encrypt every sealed value and material file to the newest key")
    k.add_argument("--batch-size", type=int, default=500, metavar="N", help="每批（一个事务）的数量 / values per batch")
    k.add_argument("--max-batches", type=int, default=None, metavar="N",
                   help="做完N批后停止，再次运行从停下处继续 / stop after N batches; a rerun continues")
    k.add_argument("--status", action="store_true",
                   help="只统计每个密钥加密了多少数据，不做改动 / count values per key id, change nothing")
    i = commands.add_parser("reindex", help="更换 BLIND_INDEX_KEY 后重算所有盲索引（须先停止全部服务）/ recompute "
                                            "every blind index with BLIND_INDEX_KEY (every service stopped)")
    i.add_argument("--services-stopped", action="store_true", required=True,
                   help="确认所有服务都已停止 / confirm that every service is stopped")
    i.add_argument("--batch-size", type=int, default=500, metavar="N")
    a = commands.add_parser("add-subscriber", help="为外部系统建一个只能订阅事件的 RabbitMQ 账号 / a broker account "
                                                   "for an outside system: its own queues NAME.*, our *.events only")
    a.add_argument("name")
    a.add_argument("--password-stdin", action="store_true",
                   help="从标准输入读取密码（否则生成并只显示一次）/ read the password from stdin")
    a.add_argument("--reset-password", action="store_true", help="账号已存在时更换密码 / give an existing account a new one")
    a.add_argument("--max-queue-mb", type=int, default=1024, metavar="N",
                   help="对方每个队列最多占用N MB，超出丢弃最旧的消息（可重放）/ cap per queue, oldest dropped "
                        "beyond it (default 1024)")
    e = commands.add_parser("replay-events", help="把存档的事件重新发送到订阅方自己的队列 / send archived events to a "
                                                  "subscriber's own queues (same ids and bodies)")
    e.add_argument("--to", required=True, metavar="NAME")
    e.add_argument("--since", required=True, metavar="TIME",
                   help="ISO 日期或时间，无时区按北京时间，例如 2026-03-01 / ISO date or date-time (Beijing time)")
    return parser.parse_args(argv)


def main(argv=None, environ=None):
    args = parse_args(sys.argv[1:] if argv is None else argv)
    site = Site.from_environment(environ)
    try:
        if args.command == "backup":
            manifest = backup(args.directory, site)
            print(f"备份完成 / backup complete: {args.directory} "
                  f"({len(manifest['databases'])} databases, {manifest['materials']['files']} material files)")
        elif args.command == "restore":
            restore(args.directory, site, republish_minutes=args.republish_minutes)
            print(f"恢复完成 / restore complete from {args.directory}; now start the services")
        elif args.command == "trail":
            from .trail import trail
            facts = trail(args.application_id, site)
            for fact in facts:
                print(json.dumps(fact, ensure_ascii=False))
            if not facts:
                print(f"没有找到申请 {args.application_id} 的任何记录 / nothing found", file=sys.stderr)
                return 1
        elif args.command == "rotate-keys":
            from .rotate_cli import rotate_keys
            return rotate_keys(args, site, environ)
        elif args.command == "reindex":
            from .rotate_cli import reindex_command
            return reindex_command(args, site, environ)
        elif args.command in ("add-subscriber", "replay-events"):
            from .subscriber_cli import subscriber_command
            return subscriber_command(args, site, environ)
    except (BackupError, BrokerError) as exc:
        print(f"{args.command}: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
