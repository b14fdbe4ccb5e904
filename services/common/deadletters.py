"""Dead letters: list them and replay them to their queue once the fault is fixed.

    python -m services.common.deadletters list  [--queue review.ApplicationSubmitted.dlq]
    python -m services.common.deadletters replay --queue review.ApplicationSubmitted.dlq [--id EVENT_ID]
"""
import argparse
import json
import os
import sys

from kombu import Connection, Producer

from services.contracts.subscriptions import SUBSCRIPTIONS

from .subscriber import dlq_name, queue_name


def all_dlqs():
    return [dlq_name(queue_name(service, event_type)) for service, _, event_type in SUBSCRIPTIONS]


def _drain(amqp_uri, dlq):
    """Fetch every message of a DLQ without acking (they return to the queue when the channel closes)."""
    conn = Connection(amqp_uri)
    channel = conn.channel()
    messages = []
    try:
        while True:
            msg = channel.basic_get(dlq, no_ack=False)
            if msg is None:
                break
            messages.append(msg)
    except Exception as exc:  # noqa: BLE001 — a queue that does not exist yet holds nothing
        if "NOT_FOUND" not in str(exc):
            raise
        conn.release()
        return None, None, []
    return conn, channel, messages


def _text(body):
    return body.decode("utf-8", "replace") if isinstance(body, (bytes, bytearray)) else body


def _bytes(body):
    return body.encode("utf-8") if isinstance(body, str) else body


def _describe(msg):
    headers = msg.headers or {}
    # x-error: our consumer gave up on it; x-first-death-*: RabbitMQ moved it (quorum queues'
    # delivery limit, docs/operations.md "Broker cluster")
    death = headers.get("x-first-death-reason")
    return {
        "id": msg.properties.get("message_id"),
        "type": msg.properties.get("type"),
        "error": headers.get("x-error") or (f"dead-lettered by RabbitMQ: {death}" if death else ""),
        "attempts": headers.get("x-attempts"),
        "queue": headers.get("x-original-queue") or headers.get("x-first-death-queue"),
        "body": _text(msg.body)[:2000],
    }


def list_letters(amqp_uri, dlq):
    conn, _, messages = _drain(amqp_uri, dlq)
    if conn is not None:
        conn.release()
    return [_describe(m) for m in messages]


def replay(amqp_uri, dlq, event_id=None):
    """Move letters (all, or the one with this id) back to their original queue; returns how many."""
    conn, channel, messages = _drain(amqp_uri, dlq)
    if conn is None:
        return 0
    replayed = 0
    try:
        producer = Producer(channel)
        for msg in messages:
            headers = dict(msg.headers or {})
            if event_id and msg.properties.get("message_id") != event_id:
                continue
            target = headers.get("x-original-queue") or dlq[: -len(".dlq")]
            for key in ("x-attempts", "x-error", "x-last-error"):
                headers.pop(key, None)
            headers["x-replayed"] = True
            producer.publish(_bytes(msg.body), exchange="", routing_key=target, headers=headers, retry=False,
                             delivery_mode=2, content_type=msg.content_type or "application/octet-stream",
                             content_encoding=msg.content_encoding or "binary",
                             message_id=msg.properties.get("message_id"), type=msg.properties.get("type"))
            channel.basic_ack(msg.delivery_tag)
            replayed += 1
    finally:
        conn.release()
    return replayed


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m services.common.deadletters")
    parser.add_argument("command", choices=["list", "replay"])
    parser.add_argument("--queue", help="a DLQ name; default every DLQ of the system (list only)")
    parser.add_argument("--id", help="replay only the letter with this event id")
    parser.add_argument("--amqp-uri", default=os.environ.get("AMQP_URI", "amqp://guest:guest@127.0.0.1:5672/"))
    args = parser.parse_args(argv)
    if args.command == "list":
        for dlq in [args.queue] if args.queue else all_dlqs():
            for letter in list_letters(args.amqp_uri, dlq):
                print(json.dumps({"dlq": dlq, **letter}, ensure_ascii=False))
        return 0
    if not args.queue:
        parser.error("replay needs --queue")
    print(f"replayed {replay(args.amqp_uri, args.queue, args.id)} message(s) from {args.queue}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
