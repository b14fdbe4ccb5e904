"""An outside system subscribing to our events with a plain AMQP client (py-amqp; no nameko).

    python examples/subscriber.py --uri amqps://printing-office:<password>@registration.example.gov.cn:5671/ \
        --queue printing-office.events --bind registration.events:RegistrationCompleted --bind review.events:#

The account comes from the operator (`python -m services.ops add-subscriber printing-office`): it may
declare queues named `printing-office.<anything>` and bind them to our `*.events` exchanges, nothing
else. This declares its OWN durable queue, checks that each exchange exists (a passive declare: it
may not create ours), binds, prints one JSON line per new event, and de-duplicates on (source, id)
because delivery is at-least-once and a replay (`replay-events`) sends again what the queue may
already have had. A real subscriber keeps the seen ids in its database, in the same transaction as
its own effect. amqps:// verifies the broker's certificate (system CAs, or --ca-file) and host name.
"""
import argparse
import json
import sys
from urllib.parse import unquote, urlparse

import amqp


def connect(uri, ca_file=None):
    u = urlparse(uri)
    vhost = unquote(u.path[1:]) if len(u.path) > 1 else "/"
    tls = u.scheme == "amqps"
    ssl = {"context": {"cafile": ca_file, "check_hostname": True}, "server_hostname": u.hostname} if tls else False
    conn = amqp.Connection(host=f"{u.hostname}:{u.port or (5671 if tls else 5672)}",
                           userid=unquote(u.username or "guest"), password=unquote(u.password or "guest"),
                           virtual_host=vhost, ssl=ssl)
    conn.connect()
    return conn


def main(argv=None):
    parser = argparse.ArgumentParser()
    parser.add_argument("--uri", default="amqp://guest:guest@127.0.0.1:5672/")
    parser.add_argument("--queue", required=True, help="your own durable queue name")
    parser.add_argument("--bind", action="append", required=True, help="exchange:routing_key (# for all)")
    parser.add_argument("--max-messages", type=int, default=0, help="stop after this many new events")
    parser.add_argument("--idle-timeout", type=float, default=0, help="stop after this many idle seconds")
    parser.add_argument("--ca-file", help="the CA certificate(s) that signed the broker's, if not a public CA")
    args = parser.parse_args(argv)

    conn = connect(args.uri, args.ca_file)
    channel = conn.channel()
    channel.queue_declare(args.queue, durable=True, auto_delete=False)
    for binding in args.bind:
        exchange, _, key = binding.partition(":")
        channel.exchange_declare(exchange, "topic", durable=True, auto_delete=False, passive=True)
        channel.queue_bind(args.queue, exchange, key or "#")
    print(json.dumps({"ready": True}), flush=True)

    seen = set()
    state = {"new": 0}

    def on_message(message):
        try:
            event = json.loads(message.body)
            key = (event["source"], event["id"])
        except (ValueError, KeyError, TypeError):
            print(json.dumps({"rejected": True}), flush=True)
            channel.basic_reject(message.delivery_tag, requeue=False)
            return
        if key not in seen:
            seen.add(key)
            state["new"] += 1
            print(json.dumps({"type": event["type"], "source": event["source"], "id": event["id"],
                              "subject": event["subject"], "data": event["data"]}, ensure_ascii=False),
                  flush=True)
        channel.basic_ack(message.delivery_tag)

    channel.basic_qos(0, 50, False)
    channel.basic_consume(args.queue, callback=on_message)
    try:
        while not args.max_messages or state["new"] < args.max_messages:
            try:
                conn.drain_events(timeout=args.idle_timeout or None)
            except TimeoutError:
                break
    finally:
        conn.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
