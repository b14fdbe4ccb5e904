"""Review service benchmark: a ~1 MB 2400×1600 JPEG through the check_material RPC, and proof that
Pillow work does not stall other requests.

    .venv/bin/python bench/bench_review.py [--runs 20] [--seconds 8]

Everything on a fresh RabbitMQ vhost and a throw-away SQLite database and image store. Prints:
  - the pure check (services.review.domain check_material) and the pure upload pipeline the
    service runs per accepted upload (check + re-encode + thumbnail), in this process;
  - ms per check_material RPC through the running service (base64, AMQP both ways, the pipeline
    in eventlet's thread pool, AES-GCM, atomic file writes, the database row);
  - health RPC latency when idle, and while 4 clients upload back to back — for the service as
    built (Pillow via eventlet.tpool) and, as the control, the same service running the pipeline
    on the event loop. If Pillow stalled the loop, the health figures under load would show it.

The service and the uploading clients run in their own processes (`--serve`, `--load`), so the
health prober here measures the service, not its own client's JSON work.
"""
import argparse
import base64
import io
import json
import os
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

CONCURRENT_UPLOADS = 4
TARGET_BYTES = 1024 * 1024


# --- roles of this script's own subprocesses ------------------------------------------------------

def serve(mode):
    """python bench/bench_review.py --serve tpool|inline: the review service, as `python -m services.review run`."""
    import eventlet
    eventlet.monkey_patch()
    from services.common.runner import run
    from services.review.service import ReviewService

    if mode == "inline":
        class ReviewServiceInline(ReviewService):
            """The control: the same service with Pillow run on the event loop."""
            def _offload(self, fn, *args, **kwargs):
                return fn(*args, **kwargs)
        return run(ReviewServiceInline)
    return run(ReviewService)


def load(image_path, seconds):
    """python bench/bench_review.py --load FILE SECONDS: 4 clients uploading back to back."""
    import eventlet
    eventlet.monkey_patch()
    from nameko.standalone.rpc import ClusterRpcProxy

    with open(image_path, "rb") as fh:
        content = base64.b64encode(fh.read()).decode()
    proxies = [ClusterRpcProxy({"AMQP_URI": os.environ["AMQP_URI"]}) for _ in range(CONCURRENT_UPLOADS)]
    clusters = [p.start() for p in proxies]
    print("ready", flush=True)
    deadline = time.perf_counter() + seconds
    samples, refused = [], []

    def uploader(n):
        while time.perf_counter() < deadline:
            start = time.perf_counter()
            answer = clusters[n].review.check_material(f"bench-{n}", f"app-{n}", "id_card_front", content)
            samples.append((time.perf_counter() - start) * 1000)
            if not answer["verdict"]["ok"]:
                refused.append(answer["verdict"]["issues"])

    started = time.perf_counter()
    for thread in [eventlet.spawn(uploader, n) for n in range(CONCURRENT_UPLOADS)]:
        thread.wait()
    elapsed = time.perf_counter() - started
    for p in proxies:
        p.stop()
    print(json.dumps({"uploads": len(samples), "seconds": elapsed, "samples": samples, "refused": len(refused)}),
          flush=True)
    return 0


# --- the benchmark ----------------------------------------------------------------------------------

def one_megabyte_jpeg():
    # A phone shot of an ID card's portrait side at full resolution, as an applicant uploads it: it
    # must pass every check (a random scene passed the portrait check only when Pillow's unseeded
    # noise happened to draw a face into it).
    from tests.support.images import id_card
    im = id_card(2400, 1600, seed=1)
    best = None
    for quality in range(70, 96):
        buf = io.BytesIO()
        im.save(buf, "JPEG", quality=quality)
        if buf.tell() > TARGET_BYTES:
            break
        best = (quality, buf.getvalue())
    return best


def timed(fn, runs):
    fn()  # warm-up
    samples = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - start) * 1000)
    return samples


def stats(samples):
    from bench.support import median, percentile
    return {"median": median(samples), "p95": percentile(samples, 95), "max": max(samples), "n": len(samples)}


def fmt(s):
    return f"median {s['median']:.1f} ms, p95 {s['p95']:.1f} ms, max {s['max']:.1f} ms (n={s['n']})"


class Server:
    def __init__(self, mode, amqp_uri, workdir):
        self.var_dir = os.path.join(workdir, mode)
        os.makedirs(self.var_dir, exist_ok=True)
        env = {**os.environ, "AMQP_URI": amqp_uri, "VAR_DIR": self.var_dir, "PYTHONPATH": ROOT,
               "REVIEW_DATABASE_URL": f"sqlite:///{self.var_dir}/review.db", "LOG_LEVEL": "WARNING",
               "PYTHONWARNINGS": "ignore"}
        self.log = open(os.path.join(self.var_dir, "service.log"), "w")
        self.proc = subprocess.Popen([sys.executable, __file__, "--serve", mode], env=env, cwd=ROOT,
                                     stdout=self.log, stderr=subprocess.STDOUT)

    def stop(self):
        self.proc.terminate()
        try:
            self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
        self.log.close()


def wait_healthy(review, timeout=60):
    deadline = time.monotonic() + timeout
    while True:
        try:
            return review.health()
        except Exception:  # noqa: BLE001 — not up yet (no queue, no consumer)
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)


def health_samples(review, seconds=None, runs=None):
    samples = []
    deadline = time.perf_counter() + (seconds or 1e9)
    while time.perf_counter() < deadline and (runs is None or len(samples) < runs):
        start = time.perf_counter()
        review.health()
        samples.append((time.perf_counter() - start) * 1000)
        time.sleep(0.01)
    return samples


def measure(mode, amqp_uri, workdir, image_path, content, args):
    from nameko.standalone.rpc import ClusterRpcProxy

    server = Server(mode, amqp_uri, workdir)
    result = {}
    try:
        with ClusterRpcProxy({"AMQP_URI": amqp_uri, "serializer": "json"}, timeout=120) as cluster:
            review = cluster.review
            wait_healthy(review)
            if mode == "tpool":
                answer = review.check_material("bench", "app", "id_card_front", content)
                assert answer["verdict"]["ok"], answer["verdict"]
                result["rpc"] = stats(timed(lambda: review.check_material("bench", "app", "id_card_front", content),
                                            args.runs))
            result["idle"] = stats(health_samples(review, runs=100))
            env = {**os.environ, "AMQP_URI": amqp_uri, "PYTHONPATH": ROOT, "PYTHONWARNINGS": "ignore"}
            loader = subprocess.Popen([sys.executable, __file__, "--load", image_path, str(args.seconds)],
                                      env=env, cwd=ROOT, stdout=subprocess.PIPE, stderr=server.log, text=True)
            assert loader.stdout.readline().strip() == "ready"
            time.sleep(0.5)  # let the four uploads get going
            result["busy"] = stats(health_samples(review, seconds=args.seconds - 1.0))
            out, _ = loader.communicate(timeout=args.seconds + 120)
            report = json.loads(out.strip().splitlines()[-1])
            result["uploads"] = report["uploads"]
            result["uploads_per_second"] = report["uploads"] / report["seconds"]
            result["upload"] = stats(report["samples"])
            result["refused"] = report["refused"]
    finally:
        server.stop()
    return result


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--seconds", type=float, default=8.0, help="duration of each load phase")
    parser.add_argument("--serve", choices=["tpool", "inline"], help=argparse.SUPPRESS)
    parser.add_argument("--load", nargs=2, metavar=("FILE", "SECONDS"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        return serve(args.serve)
    if args.load:
        return load(args.load[0], float(args.load[1]))

    from bench.support import fresh_vhost, summary
    from services.review.adapters.storage import MaterialStore
    from services.review.domain.materials import CheckPolicy, check_material
    from services.review.uploads import prepare_upload

    quality, data = one_megabyte_jpeg()
    content = base64.b64encode(data).decode()

    class NoStore(MaterialStore):
        def put(self, kind, image, thumbnail):
            return None

    pure_check = stats(timed(lambda: check_material("id_card_front", data), args.runs * 2))
    pipeline = stats(timed(lambda: prepare_upload(NoStore("/nonexistent", None), "id_card_front", data,
                                                  CheckPolicy(), 320), args.runs))
    results = {}
    with tempfile.TemporaryDirectory() as workdir, fresh_vhost() as amqp_uri:
        image_path = os.path.join(workdir, "upload.jpg")
        with open(image_path, "wb") as fh:
            fh.write(data)
        for mode in ("tpool", "inline"):
            results[mode] = measure(mode, amqp_uri, workdir, image_path, content, args)

    t, c = results["tpool"], results["inline"]
    print(f"input: 2400x1600 JPEG, {len(data):,} bytes (quality {quality}), kind id_card_front; {os.cpu_count()} CPUs")
    print(f"pure check_material: {fmt(pure_check)}")
    print(f"pure upload pipeline (check + re-encode + thumbnail): {fmt(pipeline)}")
    print(f"check_material RPC through the service: {fmt(t['rpc'])}")
    print(f"RPC / pure check (median): {t['rpc']['median'] / pure_check['median']:.1f}x; "
          f"RPC overhead beyond the pipeline: {t['rpc']['median'] - pipeline['median']:.1f} ms")
    print(f"health RPC, idle: {fmt(t['idle'])}")
    print(f"health RPC, {CONCURRENT_UPLOADS} uploads running (tpool, as built): {fmt(t['busy'])}")
    print(f"  uploads meanwhile: {t['uploads']} ({t['uploads_per_second']:.1f}/s), each {fmt(t['upload'])}")
    print(f"health RPC, idle (control service): {fmt(c['idle'])}")
    print(f"health RPC, {CONCURRENT_UPLOADS} uploads running (control: Pillow on the event loop): {fmt(c['busy'])}")
    print(f"  uploads meanwhile: {c['uploads']} ({c['uploads_per_second']:.1f}/s), each {fmt(c['upload'])}")
    print(f"health p95 under load vs idle: tpool {t['busy']['p95'] / t['idle']['p95']:.1f}x, "
          f"event-loop control {c['busy']['p95'] / c['idle']['p95']:.1f}x")
    summary(f"review health RPC p95 with {CONCURRENT_UPLOADS} uploads running (Pillow in tpool)",
            f"{t['busy']['p95']:.1f} ms", None, None,
            f"idle {t['idle']['p95']:.1f} ms; Pillow on the event loop {c['busy']['p95']:.1f} ms")
    if t["refused"] or c["refused"]:
        print(f"WARNING: {t['refused'] + c['refused']} uploads were refused; the figures are not of the full pipeline")
    return 0


if __name__ == "__main__":
    sys.exit(main())
