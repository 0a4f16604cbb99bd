"""Heartbeats per second through the viewer endpoint (POST /viewer/) on a real multi-worker server on loopback:
gunicorn serving the lean app as in production (`saleor_livedist.viewer_wsgi:application`, gthread workers, group
commit) or the Django view (`--app django`, the sandbox's Django alone, sync workers), processing on a Celery
worker (Redis broker), load from wrk; then counts heartbeats sent, answered and recorded, and checks every
recorded one reached the inbox and was processed.

    python bench/bench_viewers.py [--app lean|django] [--workers 2] [--threads 24] [--worker-class gthread]
                                  [--seconds 20] [--connections 32,48,64] [--warmup 20] [--cache redis|locmem]
                                  [--process-after] [--target 2000] [--p99-ms 50] [--database NAME]

Needs gunicorn (pip install gunicorn), wrk and redis-server (apt-get install wrk redis-server). Everything
listens on 127.0.0.1 only: its own Redis, gunicorn and database (`--database`, default `livedist_bench_viewers`,
dropped and created on the DATABASE_URL server, else the embedded PostgreSQL). A warm-up lets as many viewers join as
the server takes in `--warmup` seconds; the timed runs (one per connection count) then cycle through them, so
each viewer sends a heartbeat about every `--warmup` seconds, as a real one does every 15 s: the per-viewer
limit stays as shipped. All the load comes from one address, so the per-IP limit (viewers.IP_LIMIT) is raised
for the run, and the output says so.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

DATABASE = "livedist_bench_viewers"
LIVE = "bench-live"
TAB = "bench"
RUN_IP_LIMIT = 10 ** 6  # one loopback address stands for thousands of viewers' addresses

WRK_SCRIPT = r"""
-- Heartbeats from many signed visitor ids (args: ids file, threads, live, tab); thread k takes every k-th id.
local threads, created = {}, 0

function setup(thread)
  created = created + 1
  thread:set("tid", created)
  table.insert(threads, thread)
end

function init(args)
  ids, i = {}, 0
  local nthreads, k = tonumber(args[2]), 0
  for line in io.lines(args[1]) do
    if k % nthreads == tid - 1 then ids[#ids + 1] = line end
    k = k + 1
  end
  sent, ok, recorded, limited, other = 0, 0, 0, 0, 0
  body = '{"live": "' .. args[3] .. '", "action": "heartbeat", "tab": "' .. args[4] .. '"}'
end

function request()
  i = i + 1
  sent = sent + 1
  local headers = {["Content-Type"] = "application/json", ["X-Livedist-Visitor"] = ids[((i - 1) % #ids) + 1]}
  return wrk.format("POST", "/viewer/", headers, body)
end

function response(status, headers, answer)
  if status == 200 then
    ok = ok + 1
    if string.find(answer, '"recorded": true', 1, true) then recorded = recorded + 1 end
  elseif status == 429 then
    limited = limited + 1
  else
    other = other + 1
  end
end

function done(summary, latency, requests)
  local t = {sent = 0, ok = 0, recorded = 0, limited = 0, other = 0}
  for _, thread in ipairs(threads) do
    for key in pairs(t) do t[key] = t[key] + thread:get(key) end
  end
  io.write(string.format('BENCH {"sent": %d, "ok": %d, "recorded": %d, "limited": %d, "other": %d, ' ..
    '"completed": %d, "seconds": %.3f, "connect_errors": %d, "read_errors": %d, "write_errors": %d, ' ..
    '"timeouts": %d, "status_errors": %d, "p50": %d, "p90": %d, "p99": %d, "p999": %d, "max": %d}\n',
    t.sent, t.ok, t.recorded, t.limited, t.other, summary.requests, summary.duration / 1e6,
    summary.errors.connect, summary.errors.read, summary.errors.write, summary.errors.timeout,
    summary.errors.status, latency:percentile(50), latency:percentile(90), latency:percentile(99),
    latency:percentile(99.9), latency.max))
end
"""


# ---------------------------------------------------------------------- the server (a child process)


def serve(port: int, app: str, worker_class: str, workers: int, threads: int, cache: str, redis_url: str,
          stats: str) -> None:
    """gunicorn on 127.0.0.1:port, as a deployment runs it: the lean app (saleor_livedist.viewer_wsgi, Django
    behind it for other paths) or the sandbox's Django alone; persistent database connections (as Saleor
    runs), the rate-limit counters in Redis or per process, and the per-IP limit raised for the run. Each
    worker appends its batcher's figures to `stats` when it exits."""
    from gunicorn.app.base import BaseApplication

    def worker_exit(server: Any, worker: Any) -> None:
        batcher = getattr(worker.wsgi, "batcher", None)
        if batcher is not None:
            with open(stats, "a") as out:
                out.write(json.dumps({"batches": batcher.batches, "requests": batcher.requests,
                                      "largest": batcher.largest}) + "\n")

    class Server(BaseApplication):  # type: ignore[misc]
        def load_config(self) -> None:
            for key, value in {"bind": f"127.0.0.1:{port}", "workers": workers, "worker_class": worker_class,
                               "threads": threads, "backlog": 4096, "loglevel": "warning", "preload_app": True,
                               "worker_exit": worker_exit}.items():
                self.cfg.set(key, value)

        def load(self) -> Any:
            os.environ.setdefault("DJANGO_SETTINGS_MODULE", "saleor_livedist.sandbox.settings")
            from django.conf import settings

            settings.DATABASES["default"]["CONN_MAX_AGE"] = 600
            if cache == "redis":
                settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache",
                                               "LOCATION": redis_url}}
            if app == "lean":
                from saleor_livedist.viewer_wsgi import application  # django.setup() first
            else:
                from django.core.wsgi import get_wsgi_application

                application = get_wsgi_application()
            from saleor_livedist.viewers import contract as viewers

            viewers.IP_LIMIT = RUN_IP_LIMIT
            return application

    Server().run()


# ---------------------------------------------------------------------- the run


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_until(check: Any, seconds: float, what: str, log: Path | None = None) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            if check():
                return
        except OSError:
            pass
        time.sleep(0.1)
    tail = "\n".join(log.read_text().splitlines()[-20:]) if log is not None and log.exists() else ""
    raise SystemExit(f"bench_viewers: {what} did not come up within {seconds:.0f} s\n{tail}")


def http_ok(port: int) -> bool:
    with socket.create_connection(("127.0.0.1", port), timeout=1) as sock:
        sock.sendall(b"GET /viewer/ HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n")
        return sock.recv(64).startswith(b"HTTP/1")


def machine() -> str:
    model = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                  if line.startswith("model name")), platform.processor() or "unknown CPU")
    memory = next((int(line.split()[1]) / 2 ** 20 for line in Path("/proc/meminfo").read_text().splitlines()
                   if line.startswith("MemTotal")), 0.0)
    return f"{os.cpu_count()} CPU ({model}), {memory:.1f} GiB RAM, {platform.system()} {platform.release()}"


def versions() -> str:
    import django
    import gunicorn
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SHOW server_version")
        postgres = cursor.fetchone()[0]
    wrk = subprocess.run(["wrk", "--version"], capture_output=True, text=True).stdout.split()[1]
    redis = subprocess.run(["redis-server", "--version"], capture_output=True, text=True).stdout.split()[2]
    return (f"Python {platform.python_version()}, Django {django.get_version()}, gunicorn {gunicorn.__version__}, "
            f"PostgreSQL {postgres}, Redis {redis.removeprefix('v=')}, wrk {wrk}")


def prepare(database: str) -> None:
    os.environ.pop("CELERY_BROKER_URL", None)  # this process processes inline
    os.environ["LIVEDIST_SANDBOX_DEBUG"] = "0"
    from saleor_livedist.sandbox.demo import setup_django

    setup_django(database)
    from django.core.management import call_command
    from django.utils import timezone

    from saleor_livedist.inbox import processing

    call_command("migrate", verbosity=0)
    at = timezone.now()
    processing.submit({"id": "bench-scheduled", "type": "live.scheduled", "at": at.isoformat(), "live": LIVE,
                       "starts_at": at.isoformat()})
    processing.submit({"id": "bench-started", "type": "live.started", "at": at.isoformat(), "live": LIVE})


def inbox_counts() -> dict[str, int]:
    from django.db.models import Count

    from saleor_livedist.models import InboxEvent

    rows = InboxEvent.objects.filter(payload__live=LIVE, type__in=["live.joined", "live.heartbeat"])
    counts = {f"{t}/{s}": n for t, s, n in rows.values_list("type", "status").annotate(n=Count("id"))}
    counts["total"] = sum(counts.values())
    counts["pending"] = sum(n for key, n in counts.items() if key.endswith("/pending"))
    counts["failed"] = sum(n for key, n in counts.items() if key.endswith("/failed"))
    return counts


def descendants(root: int) -> list[int]:
    parents: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        parents.setdefault(int(fields[1]), []).append(int(stat.parent.name))
    found, todo = [], [root]
    while todo:
        pid = todo.pop()
        found.append(pid)
        todo += parents.get(pid, [])
    return found


WEB_APP, WORKER_APP = "livedist-bench-web", "livedist-bench-worker"  # PGAPPNAME of the server and of the worker


def postgres_backends(application: str) -> list[int]:
    """The PostgreSQL processes serving the bench's web server, or its Celery worker, told apart by their
    application name (the server is shared; its other work is not ours)."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND application_name = %s",
                       [application])
        return [pid for (pid,) in cursor.fetchall()]


def cpu_seconds(pids: list[int]) -> dict[int, float]:
    ticks = os.sysconf("SC_CLK_TCK")
    out = {}
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        out[pid] = (int(fields[11]) + int(fields[12])) / ticks  # utime + stime
    return out


def machine_busy() -> tuple[float, float]:
    """(busy, total) CPU seconds of the whole machine so far, every process included."""
    ticks = os.sysconf("SC_CLK_TCK")
    values = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = values[3] + values[4]
    return (sum(values) - idle) / ticks, sum(values) / ticks


def wrk(args: list[str]) -> dict[str, Any]:
    out = subprocess.run(["wrk", *args], capture_output=True, text=True, check=True).stdout
    line = next((line for line in out.splitlines() if line.startswith("BENCH ")), None)
    if line is not None:
        return json.loads(line[6:])
    rate = next(line for line in out.splitlines() if line.startswith("Requests/sec:"))
    return {"rate": float(rate.split()[1])}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--app", choices=["lean", "django"], default="lean",
                        help="lean: saleor_livedist.viewer_wsgi (production); django: the Django view alone")
    parser.add_argument("--worker-class", default=None, help="gunicorn worker class (default: gthread for the lean "
                                                             "app, sync for Django)")
    parser.add_argument("--workers", type=int, default=None, help="gunicorn worker processes (default: 2 lean, 4 "
                                                                  "Django)")
    parser.add_argument("--threads", type=int, default=24, help="threads per gunicorn worker (gthread)")
    parser.add_argument("--seconds", type=int, default=20, help="length of each timed run")
    parser.add_argument("--connections", type=lambda text: [int(n) for n in text.split(",")], default=None,
                        help="wrk connections, one run per value (comma-separated; default 32,64 lean, 4,32 Django)")
    parser.add_argument("--wrk-threads", type=int, default=1, help="wrk threads")
    parser.add_argument("--database", default=DATABASE, help="the bench's database (dropped and created)")
    parser.add_argument("--process-after", action="store_true",
                        help="start the Celery worker only when the load stops (the endpoint alone on the CPU, as "
                             "with workers on machines of their own); it must then drain the inbox")
    parser.add_argument("--warmup", type=int, default=20, help="seconds of arriving viewers before the timed runs")
    parser.add_argument("--max-viewers", type=int, default=60000, help="signed visitor ids generated")
    parser.add_argument("--cache", choices=["redis", "locmem"], default="redis", help="rate-limit counters")
    parser.add_argument("--target", type=int, default=2000, help="heartbeats/s to reach")
    parser.add_argument("--p99-ms", type=float, default=50.0, help="p99 latency to stay under")
    parser.add_argument("--serve", nargs=8, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        port, app, worker_class, workers, threads, cache, redis_url, stats = args.serve
        return serve(int(port), app, worker_class, int(workers), int(threads), cache, redis_url, stats)
    lean = args.app == "lean"
    args.worker_class = args.worker_class or ("gthread" if lean else "sync")
    args.workers = args.workers or (2 if lean else 4)
    args.connections = args.connections or ([32, 48, 64] if lean else [4, 32])
    for tool in ("wrk", "redis-server"):
        if shutil.which(tool) is None:
            raise SystemExit(f"bench_viewers: {tool} is not installed (apt-get install wrk redis-server)")
    prepare(args.database)
    scratch = Path(tempfile.mkdtemp(prefix=".bench-viewers-", dir=ROOT / "bench"))
    children: dict[str, subprocess.Popen[Any]] = {}
    try:
        run(args, scratch, children)
    finally:
        for child in reversed(children.values()):
            child.send_signal(signal.SIGTERM)
        for child in children.values():
            try:
                child.wait(timeout=15)
            except subprocess.TimeoutExpired:
                child.kill()
        shutil.rmtree(scratch, ignore_errors=True)


def start(args: argparse.Namespace, scratch: Path, children: dict[str, subprocess.Popen[Any]]) -> str:
    """Redis, a Celery worker (unless --process-after) and gunicorn, all on 127.0.0.1; returns the server's URL."""
    redis_port, web_port = free_port(), free_port()
    redis_url = f"redis://127.0.0.1:{redis_port}/0"
    log = scratch / "children.log"
    children["redis"] = subprocess.Popen(["redis-server", "--bind", "127.0.0.1", "--port", str(redis_port), "--save",
                                          "", "--appendonly", "no"], **quiet(log))
    wait_until(lambda: socket.create_connection(("127.0.0.1", redis_port), timeout=1), 10, "redis-server", log)
    args.redis_url = redis_url
    if not args.process_after:
        start_worker(args, scratch, children)
    children["gunicorn"] = subprocess.Popen(
        [sys.executable, __file__, "--serve", str(web_port), args.app, args.worker_class, str(args.workers),
         str(args.threads), args.cache, redis_url, str(scratch / "batches.jsonl")],
        env=child_env(redis_url, WEB_APP), cwd=ROOT, **quiet(log))
    wait_until(lambda: http_ok(web_port), 60, "gunicorn", log)
    return f"http://127.0.0.1:{web_port}"


def start_worker(args: argparse.Namespace, scratch: Path, children: dict[str, subprocess.Popen[Any]]) -> None:
    """The Celery worker, on the sandbox's settings with a persistent database connection (as Saleor runs, and
    so that its PostgreSQL backend, hence its CPU, lasts the whole run)."""
    (scratch / "bench_worker_settings.py").write_text(
        "from saleor_livedist.sandbox.settings import *  # noqa\nDATABASES['default']['CONN_MAX_AGE'] = 600\n")
    env = child_env(args.redis_url, WORKER_APP) | {"DJANGO_SETTINGS_MODULE": "bench_worker_settings",
                                                    "PYTHONPATH": f"{ROOT}{os.pathsep}{scratch}"}
    children["celery"] = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "saleor_livedist.sandbox.celery", "worker", "--pool", "solo",
         "--loglevel", "warning", "--without-gossip", "--without-mingle", "--without-heartbeat"],
        env=env, cwd=ROOT, **quiet(scratch / "children.log"))


def child_env(redis_url: str, application: str) -> dict[str, str]:
    return {**os.environ, "CELERY_BROKER_URL": redis_url, "LIVEDIST_SANDBOX_DEBUG": "0", "PYTHONPATH": str(ROOT),
            "PGAPPNAME": application}


def quiet(log: Path) -> dict[str, Any]:
    return {"stdout": subprocess.DEVNULL, "stderr": open(log, "a")}  # noqa: SIM115 (the child keeps it)


def run(args: argparse.Namespace, scratch: Path, children: dict[str, subprocess.Popen[Any]]) -> None:
    from saleor_livedist.inbox import processing
    from saleor_livedist.distribution.links import sign_visitor

    url = start(args, scratch, children)
    # the floor: the same server answering 405 to a GET of /viewer/ (gunicorn and the app, no database, no cache)
    floor = wrk(["-t", str(args.wrk_threads), "-c", str(max(args.connections)), "-d", "5s", f"{url}/viewer/"])["rate"]
    (scratch / "heartbeat.lua").write_text(WRK_SCRIPT)

    def load(connections: int, seconds: int, ids: Path) -> dict[str, Any]:
        return wrk(["-t", str(args.wrk_threads), "-c", str(connections), "-d", f"{seconds}s", "--timeout", "10s", "-s",
                    str(scratch / "heartbeat.lua"), url, "--", str(ids), str(args.wrk_threads), LIVE, TAB]
                   ) | {"connections": connections}

    # warm-up: viewers arrive (each one's first heartbeat is its join); as many as the server takes in that time,
    # so that in the timed runs each comes back about every `warmup` seconds, as a 15-second heartbeat would
    fresh = scratch / "arriving.txt"
    fresh.write_text("".join(sign_visitor(f"visitor:{n:024x}") + "\n" for n in range(args.max_viewers)))
    before = inbox_counts()["total"]
    warmup = load(max(args.connections), args.warmup, fresh)
    viewers = min(args.max_viewers, warmup["completed"])
    joined = scratch / "joined.txt"
    joined.write_text("".join(fresh.read_text().splitlines(keepends=True)[:viewers]))

    groups = {"gunicorn": descendants(children["gunicorn"].pid), "redis": [children["redis"].pid],
              "celery": descendants(children["celery"].pid) if "celery" in children else [],
              "postgres": postgres_backends(WEB_APP), "postgres (processing)": postgres_backends(WORKER_APP)}
    cpu_before = {name: cpu_seconds(pids) for name, pids in groups.items()}
    wrk_before = os.times().children_user + os.times().children_system
    busy_before, total_before = machine_busy()
    load_before = os.getloadavg()[0]
    levels = [load(connections, args.seconds, joined) for connections in args.connections]
    busy_after, total_after = machine_busy()
    cpu = {name: sum(cpu_seconds(pids).get(pid, cpu_before[name].get(pid, 0.0)) - cpu_before[name].get(pid, 0.0)
                     for pid in pids) for name, pids in groups.items()}  # a process gone since: not counted
    cpu["wrk"] = os.times().children_user + os.times().children_system - wrk_before
    cpu["machine"] = busy_after - busy_before
    cpu["capacity"] = total_after - total_before
    load_after = os.getloadavg()[0]
    server = children["gunicorn"]  # stopped now: its workers write their batchers' figures as they exit
    server.send_signal(signal.SIGTERM)
    server.wait(timeout=30)
    stats = scratch / "batches.jsonl"
    batches = [json.loads(line) for line in stats.read_text().splitlines()] if stats.exists() else []

    if args.process_after:
        start_worker(args, scratch, children)  # now, to process what the load left in the inbox
    drain_start = time.monotonic()
    counts = inbox_counts()
    while counts["pending"] and time.monotonic() - drain_start < 180:
        time.sleep(0.5)
        counts = inbox_counts()
    drain = time.monotonic() - drain_start
    left = counts["pending"]
    if left:
        processing.process_pending()
        counts = inbox_counts()
    counts["before"] = before
    report(args, floor, warmup, viewers, levels, cpu, (load_before, load_after), counts, drain, left, batches)


def report(args: argparse.Namespace, floor: float, warmup: dict[str, Any], viewers: int,
           levels: list[dict[str, Any]], cpu: dict[str, float], loads: tuple[float, float], counts: dict[str, int],
           drain: float, left: int, batches: list[dict[str, int]]) -> None:
    from saleor_livedist.viewers import contract as endpoint
    from saleor_livedist.models import Watch

    runs = [warmup, *levels]
    f = {key: sum(r[key] for r in runs) for key in ("sent", "ok", "recorded", "limited", "other", "completed",
                                                     "connect_errors", "read_errors", "write_errors", "timeouts")}
    timed = sum(level["completed"] for level in levels)
    rows = counts["total"] - counts["before"]
    in_flight = f["sent"] - f["completed"]
    lost = max(0, f["recorded"] - rows)
    print(f"machine: {machine()}; load average (1 min) {loads[0]:.2f} before the timed runs, {loads[1]:.2f} after")
    print(f"software: {versions()}")
    served = ("the lean app (saleor_livedist.viewer_wsgi, group commit)" if args.app == "lean"
              else "the sandbox's Django (the Django view)")
    threads = f" x {args.threads} threads" if args.worker_class == "gthread" else ""
    print(f"server: gunicorn, {args.workers} {args.worker_class} workers{threads} on 127.0.0.1 serving {served}, "
          f"persistent database connections; processing on 1 Celery worker (solo pool, Redis broker on 127.0.0.1, "
          f"{'started when the load stopped' if args.process_after else 'running during the load'}); "
          f"rate-limit counters in {'Redis' if args.cache == 'redis' else 'each worker (locmem)'}")
    print(f"limits: per viewer {endpoint.VIEWER_LIMIT} per {endpoint.VIEWER_WINDOW} s (as shipped); per IP raised "
          f"from {endpoint.IP_LIMIT} per {endpoint.IP_WINDOW} s to {RUN_IP_LIMIT:,} for this run (all load comes "
          f"from one address)")
    print(f"load: wrk, {args.wrk_threads} thread(s); POST /viewer/ heartbeats, each with its own signed visitor id "
          f"(X-Livedist-Visitor)")
    print(f"floor: the same server answers {floor:,.0f} requests/s to GET /viewer/ (a 405: gunicorn and the app "
          f"alone, no database, no cache)")
    print(f"warm-up ({args.warmup} s, {warmup['connections']} connections): {viewers:,} viewers arrive, "
          f"{warmup['completed'] / warmup['seconds']:,.0f}/s (a first heartbeat is a join)")
    for level in levels:
        print(f"timed ({args.seconds} s, {level['connections']:>2} connections): "
              f"{level['completed'] / level['seconds']:6,.0f} heartbeats/s answered; latency ms p50 "
              f"{level['p50'] / 1000:.1f}  p90 {level['p90'] / 1000:.1f}  p99 {level['p99'] / 1000:.1f}  "
              f"p99.9 {level['p999'] / 1000:.1f}  max {level['max'] / 1000:.1f}; each viewer every "
              f"~{viewers / max(level['completed'] / level['seconds'], 1):.0f} s")
    per = 1000 / max(timed, 1)
    ours = sum(cpu[k] for k in ("gunicorn", "celery", "redis", "postgres", "postgres (processing)", "wrk"))
    print(f"CPU ms per timed request: gunicorn {cpu['gunicorn'] * per:.2f}, postgres {cpu['postgres'] * per:.2f}; "
          f"processing: celery {cpu['celery'] * per:.2f}, its postgres {cpu['postgres (processing)'] * per:.2f}; "
          f"redis {cpu['redis'] * per:.2f}, "
          f"wrk {cpu['wrk'] * per:.2f}; machine busy {cpu['machine'] / cpu['capacity']:.0%} of "
          f"{os.cpu_count()} cores, {max(0.0, cpu['machine'] - ours) / cpu['capacity']:.0%} of it other processes")
    print(f"answers: {f['ok']:,} ok ({f['recorded']:,} recorded, {f['ok'] - f['recorded']:,} repeats in a "
          f"heartbeat window), {f['limited']:,} rate-limited (429), {f['other']:,} other; socket errors: "
          f"connect {f['connect_errors']}, read {f['read_errors']}, write {f['write_errors']}, "
          f"timeout {f['timeouts']}")
    if batches:
        requests, transactions = sum(b["requests"] for b in batches), sum(b["batches"] for b in batches)
        print(f"group commit: {requests:,} requests in {transactions:,} batches (warm-up included), "
              f"{requests / max(transactions, 1):.1f} per transaction on average, at most "
              f"{max(b['largest'] for b in batches)}")
    kinds = ", ".join(f"{k} {v:,}" for k, v in sorted(counts.items()) if "/" in k)
    print(f"inbox: {rows:,} viewer events ({kinds}); drained by the worker {drain:.1f} s after the load stopped"
          + (f", {left:,} left for the periodic sweep (processed here)" if left else ""))
    processed = sum(n for key, n in counts.items() if key.endswith("/done"))
    print(f"sent {f['sent']:,}, answered {f['completed']:,}, {in_flight:,} in flight when wrk stopped; acknowledged "
          f"as recorded {f['recorded']:,}, inbox rows {rows:,} (at most the in-flight ones more), processed "
          f"{processed:,}; lost: {lost:,}; failed: {counts['failed']:,}; watch rows "
          f"{Watch.objects.filter(live=LIVE).count():,}")
    met = any(level["completed"] / level["seconds"] >= args.target and level["p99"] / 1000 <= args.p99_ms
              for level in levels) and not lost and not f["limited"]
    print(f"target >= {args.target:,} heartbeats/s with p99 <= {args.p99_ms:.0f} ms, none lost, none refused: "
          f"{'met' if met else 'NOT met'}")


if __name__ == "__main__":
    main()
