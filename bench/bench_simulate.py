"""Peak memory and wall time of `livedist simulate` against the number of orders in its events file.

    python bench/bench_simulate.py [--orders 20000 100000] [--format json]

Writes a JSON Lines file of the engine bench's stream (bench/streams.py: a network of 1,000 distributors, a
live, then orders created and paid, each after its customer's click), runs `livedist simulate` on it in a
fresh child process with its output sent to a file, and prints the child's peak RSS (os.wait4's ru_maxrss),
its wall time, the output's size and the memory per order above the 0-order baseline. It prints figures; it
is not a test.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

DISTRIBUTORS = 1000


def raw(event: object) -> str:
    """The event as a line of the file (the parsed event's target back in the input's {kind: id} form)."""
    doc = event.to_json()  # type: ignore[attr-defined]
    target = doc.get("target")
    if isinstance(target, dict) and set(target) == {"kind", "id"}:
        doc["target"] = {target["kind"]: target["id"]}
    return json.dumps(doc, ensure_ascii=False) + "\n"


def write_stream(path: Path, orders: int) -> int:
    import streams

    lines = 0
    with open(path, "w", encoding="utf-8") as out:
        for event in streams.network_events(DISTRIBUTORS) + streams.live_events():
            out.write(raw(event))
            lines += 1
        for order in streams.orders(orders, DISTRIBUTORS):
            for event in [*order.before, order.created, order.paid]:
                out.write(raw(event))
                lines += 1
    return lines


def measure(events: Path, output: Path, fmt: str) -> tuple[int, float]:
    """(peak RSS in KiB, wall seconds) of one `livedist simulate` in a fresh process."""
    command = [sys.executable, "-m", "saleor_livedist", "simulate", "--events", str(events), "--format", fmt,
               "--engine", "python"]
    start = time.perf_counter()
    with open(output, "w") as out:
        child = subprocess.Popen(command, stdout=out, cwd=ROOT)
        _, status, usage = os.wait4(child.pid, 0)
    wall = time.perf_counter() - start
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"livedist simulate failed ({status})")
    return usage.ru_maxrss, wall


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--orders", type=int, nargs="+", default=[20000, 100000])
    parser.add_argument("--format", choices=("json", "text"), default="json")
    args = parser.parse_args()
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}, "
          f"load average {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    with tempfile.TemporaryDirectory() as tmp:
        base = None
        print(f"{'orders':>8} {'events':>8} {'file MB':>8} {'peak RSS MiB':>13} {'KiB/order':>10} {'wall s':>7} "
              f"{'output MB':>10}")
        for count in [0, *args.orders]:
            events = Path(tmp) / f"events-{count}.jsonl"
            lines = write_stream(events, count)
            output = Path(tmp) / f"out-{count}.{args.format}"
            rss, wall = measure(events, output, args.format)
            if base is None:
                base = rss
            per_order = f"{(rss - base) / count:.2f}" if count else "-"
            print(f"{count:>8,} {lines:>8,} {events.stat().st_size / 1e6:>8.1f} {rss / 1024:>13.0f} {per_order:>10} "
                  f"{wall:>7.1f} {output.stat().st_size / 1e6:>10.1f}", flush=True)
            events.unlink()
    print(f"load average after: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    main()
