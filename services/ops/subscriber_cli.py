"""The words of `add-subscriber` and `replay-events` (services/ops/subscribers.py, replay.py)."""
import json
import sys

from .broker import Management, event_exchanges


def subscriber_command(args, site, environ=None):
    management = Management.from_environment(environ)
    if args.command == "add-subscriber":
        return _add(args, management)
    from .replay import parse_since, replay
    from .rotate_cli import cipher_of
    since = parse_since(args.since)
    sent = replay(args.to, since, site, management, cipher_of(environ))
    for queue, count in sent.items():
        print(json.dumps({"queue": queue, "events": count}, ensure_ascii=False))
    print(f"重放完成 / replayed to {args.to}: {sum(sent.values())} events since {since.isoformat()}; "
          f"subscribers skip ids they already have")
    return 0


def _add(args, management):
    from .subscribers import add_subscriber, check_name
    check_name(args.name)  # before anything is read or asked of the broker
    password = sys.stdin.readline().rstrip("\n") if args.password_stdin else None
    if args.password_stdin and len(password) < 16:
        print("add-subscriber: 密码至少16个字符 / the password needs 16 characters or more", file=sys.stderr)
        return 2
    if args.max_queue_mb < 1:
        print("add-subscriber: --max-queue-mb 应为正整数 / must be 1 or more", file=sys.stderr)
        return 2
    password = add_subscriber(management, args.name, password, reset_password=args.reset_password,
                              max_queue_mb=args.max_queue_mb)
    print(f"订阅方账号已就绪 / subscriber account ready: {args.name} (virtual host {management.vhost})")
    if not args.password_stdin:
        print(f"密码（只显示这一次，请安全地交给对方）/ password (shown once): {password}")
    print(f"队列名须以 {args.name}. 开头，每个队列最多 {args.max_queue_mb} MB / its queues must be named "
          f"{args.name}.<anything>, at most {args.max_queue_mb} MB each (oldest dropped beyond)")
    print("可绑定的交换机 / exchanges it may bind to: " + ", ".join(event_exchanges()))
    return 0
