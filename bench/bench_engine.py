"""Engine throughput: orders/s per rule backend, p50/p99 per order, peak memory, and how orders/s moves with
the number of rules and of distributors. Prints figures; it is not a test.

    python bench/bench_engine.py [--quick] [--repeat 3]

"Orders/s end to end" is the number of orders divided by the wall time the Engine spends processing each
order's order.created and order.paid events, from parsed Event objects to booked ledger entries in a
MemoryStore (parsing and the customers' clicks are not in that time; the clicks are processed, untimed).
Every measurement runs in a fresh child process, so peak memory is that process's own
resource.getrusage().ru_maxrss and one run's garbage does not slow the next.
"""
from __future__ import annotations

import argparse
import gc
from array import array
import hashlib
import json
import os
import platform
import random
import resource
import subprocess
import sys
import time
from collections import Counter
from decimal import Decimal
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import streams  # noqa: E402
from reference_engine import ReferenceEngine  # noqa: E402

from saleor_livedist.core.engine import Engine  # noqa: E402
from saleor_livedist.core.money import percent_of  # noqa: E402
from saleor_livedist.core.store import MemoryStore  # noqa: E402
from saleor_livedist.rules.loader import default_rules_dir, load_rules, load_rules_from_texts  # noqa: E402
from saleor_livedist.rules.model import RuleSet  # noqa: E402
from saleor_livedist.rules.provider import StaticRules  # noqa: E402

BACKENDS = ("durable", "python")
REFERENCE = "reference"  # bench/reference_engine.py: the default rules hand-written, for the main stream only
DEFAULT_RULE_IDS = {"direct", "live-featured", "replay", "first-live-hour", "leader-level-2", "leader-peer"}


# ---------------------------------------------------------------- rule sets with more rules

def generated_rules(total: int, seed: int = 3) -> RuleSet:
    """The default rule files plus a generated file, `total` commission rules in all (rates, bonuses and team
    rules), loaded and validated like a merchant's files: product and category rates, product bonuses, category
    team rules for leaders, and channel/date rates."""
    files = {str(p.name): p.read_text() for p in sorted(default_rules_dir().glob("*.yaml"))}
    extra = total - len(DEFAULT_RULE_IDS)
    if extra <= 0:
        return load_rules_from_texts(files)
    rng = random.Random(seed)
    bonus_products = iter(rng.sample(streams.PRODUCTS, len(streams.PRODUCTS)))  # bonuses never overlap
    rates: list[str] = []
    bonuses: list[str] = []
    team: list[str] = []
    for n in range(extra):
        kind = n % 10
        percent = f"{rng.randint(50, 150) / 10}"
        if kind < 5:
            products = ", ".join(rng.sample(streams.PRODUCTS, 2))
            rates.append(f"    - {{id: gen-product-{n}, rate: {percent}, when: {{products: [{products}]}}}}")
        elif kind < 7:
            context = ", context: live" if kind == 6 else ""
            rates.append(f"    - {{id: gen-category-{n}, rate: {percent}, "
                         f"when: {{categories: [{rng.choice(streams.CATEGORIES)}]{context}}}}}")
        elif kind == 7:
            window = ", live_minutes: {from: 60, to: 120}" if n % 20 == 7 else ""
            bonuses.append(f"    - {{id: gen-bonus-{n}, add: {rng.randint(5, 20) / 10}, "
                           f"when: {{products: [{next(bonus_products)}]{window}}}}}")
        elif kind == 8:
            team.append(f"    - {{id: gen-team-{n}, level: 2, rate: {rng.randint(10, 30) / 10}, "
                        f"when: {{rank: leader, categories: [{rng.choice(streams.CATEGORIES)}]}}}}")
        else:
            rates.append(f"    - {{id: gen-window-{n}, rate: {percent}, priority: 1, when: {{channels: [default], "
                         f"currencies: [CNY], between: {{from: '2026-11-20T21:00:00+08:00', "
                         f"to: '2026-11-20T21:{10 + n % 40}:00+08:00'}}}}}}")
    text = "schema: livedist/v1\ncommission:\n"
    for name, items in (("rates", rates), ("bonuses", bonuses), ("team", team)):
        if items:
            text += f"  {name}:\n" + "\n".join(items) + "\n"
    files["zz-generated.yaml"] = text
    ruleset = load_rules_from_texts(files)
    assert len(ruleset.rate_rules()) == total, (len(ruleset.rate_rules()), total)
    return ruleset


# ---------------------------------------------------------------- one measurement (in a child process)

def rss_kb() -> int:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * resource.getpagesize() // 1024


def measure(backend: str, orders: int, distributors: int, rules: int, network: str, profiler: Any = None
            ) -> dict[str, Any]:
    ruleset = load_rules() if rules == 0 else generated_rules(rules)
    source = StaticRules(ruleset, "python" if backend == REFERENCE else backend)
    engine: Any = Engine(MemoryStore(), source)
    if backend == REFERENCE:
        assert rules == 0 and network == "engine", "the reference engine knows the default rules and the stream only"
        engine = ReferenceEngine(source.current().version)
    started = time.perf_counter()
    if network == "engine":
        for event in streams.network_events(distributors):
            engine.process(event)
        leaders_before = 0
    else:
        leaders_before = streams.build_network_in_store(engine.store, distributors)
    network_s = time.perf_counter() - started
    for event in streams.live_events():
        engine.process(event)
    rss_before = rss_kb()

    process = engine.process
    clock = time.perf_counter
    # Containers the garbage collector need not scan (an array of floats, a dict of strings), so that the
    # bench's own bookkeeping does not slow the engine down.
    per_order = array("d")
    lines: dict[str, Decimal] = {}  # "order:line" -> what the customer paid for the line, to check each entry
    events = 0
    collections = [g["collections"] for g in gc.get_stats()]
    cpu_started, started = time.process_time(), clock()
    # Generated and parsed one order at a time (untimed), as events arrive: holding parsed batches would make
    # the garbage collector scan them, and that would be the bench's cost, not the engine's.
    for order in streams.orders(orders, distributors):
        for event in order.before:
            process(event)
        if profiler is not None:
            profiler.enable()
        t0 = clock()
        process(order.created)
        process(order.paid)
        per_order.append(clock() - t0)
        if profiler is not None:
            profiler.disable()
        events += len(order.before) + 2
        order_id = order.created.data["order"]
        for line in order.created.data["lines"]:
            lines[f"{order_id}:{line.line}"] = line.amount
    loop_s, loop_cpu_s = clock() - started, time.process_time() - cpu_started
    collections = [g["collections"] - before for g, before in zip(gc.get_stats(), collections)]

    if backend == REFERENCE:
        ledger = ledger_digest(engine.entries())
        checks = {"ledger": ledger, "digest": ledger, "entries": len(engine.entries())}
    else:
        checks = check(engine, lines, ruleset, expect_defaults=(rules == 0 and network == "engine"))
    per_order = sorted(per_order)
    timed = sum(per_order)
    source.close()
    return {
        "backend": backend, "orders": orders, "distributors": distributors, "network": network,
        "rules": len(ruleset.rate_rules()), "compiled_rules": len(source.current().compiled.rules),
        "orders_per_s": orders / timed, "timed_s": timed,
        "p50_ms": per_order[len(per_order) // 2] * 1000, "p99_ms": per_order[int(len(per_order) * 0.99)] * 1000,
        "events_per_s": events / loop_s, "cpu_share": loop_cpu_s / loop_s, "gc_collections": collections,
        "network_s": network_s, "leaders_before": leaders_before,
        "rss_before_kb": rss_before, "peak_rss_kb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
        **checks,
    }


def check(engine: Engine, lines: dict[str, Decimal], ruleset: RuleSet, expect_defaults: bool) -> dict[str, Any]:
    """Sanity of the run, so a broken engine cannot produce nice numbers; returns the ledger's digest and counts."""
    store = engine.store
    orders = {key.split(":")[0] for key in lines}
    for order_id in orders:
        record = store.get_order(order_id)
        assert record is not None and record.snapshot is not None and record.paid_at is not None, order_id
    entries = store.entries()
    assert entries, "no ledger entries were booked"
    rows = []
    for e in entries:
        assert e.status == "pending" and e.amount == percent_of(lines[f"{e.order}:{e.line}"], e.percent, "CNY"), e
        rows.append((e.id, e.beneficiary, e.kind, e.level, str(e.amount), e.status, str(e.percent), e.rule_ids,
                     e.rules_version))
    rows.sort()
    kinds = Counter(e.kind for e in entries)
    used = Counter(rule for e in entries for rule in e.rule_ids)
    assert kinds["commission"] > len(orders) // 2, f"too few commissions: {kinds}"
    assert kinds["team"] > 0, "no team commission was paid"
    if expect_defaults:
        missing = DEFAULT_RULE_IDS - {"replay"} - set(used)
        assert not missing, f"default rules never paid: {missing}"
    generated = sum(n for rule, n in used.items() if rule.startswith("gen-"))
    if len(ruleset.rate_rules()) > len(DEFAULT_RULE_IDS):
        assert generated > 0, "no generated rule ever paid"
    leaders = sum(1 for d in store.distributors() if d.rank == "leader")
    assert not engine.notices, engine.notices[:5]
    return {
        "digest": hashlib.sha256(repr(rows).encode()).hexdigest(), "entries": len(entries),
        "ledger": ledger_digest([(e.id, e.order, e.line, e.beneficiary, e.kind, e.level, e.amount, e.currency,
                                  e.status, e.percent, e.rule_ids, e.rules_version, e.at) for e in entries]),
        "commission_entries": kinds["commission"], "team_entries": kinds["team"], "leaders": leaders,
        "rules_used": len(used), "generated_rule_entries": generated,
        "amount": str(sum((e.amount for e in entries), Decimal(0))),
    }


def ledger_digest(entries: list[tuple[Any, ...]]) -> str:
    """Every field of every entry (LedgerEntry's order), sorted: the Engine and the reference engine must agree."""
    return hashlib.sha256(repr(sorted(entries)).encode()).hexdigest()


# ---------------------------------------------------------------- orchestration

def run_child(backend: str, orders: int, distributors: int, rules: int = 0, network: str = "store") -> dict[str, Any]:
    spec = json.dumps({"backend": backend, "orders": orders, "distributors": distributors, "rules": rules,
                       "network": network})
    out = subprocess.run([sys.executable, __file__, "--child", spec], capture_output=True, text=True)
    if out.returncode != 0:
        sys.exit(f"measurement {spec} failed:\n{out.stderr}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def best_of(repeat: int, *args: Any, **kwargs: Any) -> dict[str, Any]:
    runs = [run_child(*args, **kwargs) for _ in range(repeat)]
    if len({r["digest"] for r in runs}) != 1:
        sys.exit(f"the same measurement gave different ledgers: {args} {kwargs}")
    return max(runs, key=lambda r: r["orders_per_s"])


def agree(results: dict[str, dict[str, Any]], what: str) -> None:
    digests = {backend: r["digest"] for backend, r in results.items()}
    if len(set(digests.values())) != 1:
        sys.exit(f"FAILED: the backends booked different ledgers for {what}: {digests}")


def machine() -> str:
    cpu = next((line.split(":", 1)[1].strip() for line in open("/proc/cpuinfo") if line.startswith("model name")),
               platform.processor())
    try:
        from importlib.metadata import version
        durable = version("durable-rules")
    except Exception:
        durable = "absent"
    mem = next(int(line.split()[1]) for line in open("/proc/meminfo") if line.startswith("MemTotal"))
    return (f"{os.cpu_count()} CPU ({cpu}), {mem / 1024 / 1024:.1f} GiB RAM, Python {platform.python_version()}, "
            f"durable-rules {durable}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="small sizes, for a smoke run")
    parser.add_argument("--repeat", type=int, default=1, help="runs per measurement; the best is printed")
    parser.add_argument("--profile", choices=BACKENDS,
                        help="instead: cProfile of order.created + order.paid (20,000 orders) on one backend")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(measure(**json.loads(args.child))))
        return
    if args.profile:
        import cProfile
        import pstats

        orders, distributors = (2_000, 500) if args.quick else (20_000, 10_000)
        profiler = cProfile.Profile()  # enabled around order.created + order.paid only
        measure(args.profile, orders, distributors, rules=0, network="engine", profiler=profiler)
        pstats.Stats(profiler).sort_stats("tottime").print_stats(40)
        return
    if args.quick:
        main_orders, main_distributors, sweep_orders = 2_000, 500, 1_000
        rule_counts, distributor_counts = (10, 200), (1_000, 10_000)
    else:
        main_orders, main_distributors, sweep_orders = 100_000, 10_000, 20_000
        rule_counts, distributor_counts = (10, 50, 100, 200), (1_000, 10_000, 100_000, 1_000_000)
    r = args.repeat
    print(machine())
    print(f"best of {r} run(s) per figure, each run in a fresh process\n")
    print(f"Main stream: {main_orders:,} orders over {main_distributors:,} distributors (network built through the "
          "engine: link.clicked + distributor.joined), default rules.")
    print("orders/s end to end = orders / wall time of Engine.process(order.created) + Engine.process(order.paid), "
          "from parsed Event objects\n(the customers' clicks are processed too, untimed); per order = created + paid "
          "of one order; peak memory = ru_maxrss of the\nmeasuring process (interpreter, rules, network, store and "
          "engine; the stream is generated one order at a time).\nCPU/wall = CPU time of the process / wall time "
          "during the order loop: below 1.0 the machine was shared.\n")
    main_runs = {b: best_of(r, b, main_orders, main_distributors, network="engine") for b in BACKENDS}
    agree(main_runs, "the main stream")
    print(f"{'backend':<9}{'orders/s':>10}{'p50 ms':>9}{'p99 ms':>9}{'events/s':>10}{'peak RSS MiB':>14}"
          f"{'CPU/wall':>10}{'GC passes (gen 0/1/2)':>23}")
    for b, m in main_runs.items():
        print(f"{b:<9}{m['orders_per_s']:>10,.0f}{m['p50_ms']:>9.3f}{m['p99_ms']:>9.3f}{m['events_per_s']:>10,.0f}"
              f"{m['peak_rss_kb'] / 1024:>14,.0f}{m['cpu_share']:>10.2f}{'/'.join(map(str, m['gc_collections'])):>23}")
    d, p = main_runs["durable"], main_runs["python"]
    print(f"ratio python/durable: {p['orders_per_s'] / d['orders_per_s']:.1f}x")
    print(f"checks: identical ledgers ({p['entries']:,} entries: {p['commission_entries']:,} commission, "
          f"{p['team_entries']:,} team; {p['amount']} CNY; {p['leaders']:,} leaders promoted; sha256 "
          f"{p['digest'][:12]}), every amount = percent of its line")
    ref = best_of(r, REFERENCE, main_orders, main_distributors, network="engine")
    if ref["ledger"] != p["ledger"] or ref["entries"] != p["entries"]:
        sys.exit(f"FAILED: the reference engine booked another ledger than the Engine ({ref['entries']:,} entries, "
                 f"sha256 {ref['ledger'][:12]} against {p['ledger'][:12]})")
    print(f"reference engine (bench/reference_engine.py, the default rules hand-written): {ref['orders_per_s']:,.0f} "
          f"orders/s, the same ledger (every field of every entry, sha256 {ref['ledger'][:12]}); Engine / reference: "
          + ", ".join(f"{b} {main_runs[b]['orders_per_s'] / ref['orders_per_s']:.2f}x" for b in BACKENDS))
    for b, target in (("durable", 3_000), ("python", 30_000)):
        got = main_runs[b]["orders_per_s"]
        print(f"target {b} >= {target:,} orders/s: {'met' if got >= target else 'NOT met'} ({got:,.0f})")

    print(f"\nRule count ({sweep_orders:,} orders, 10,000 distributors built directly through the store, every 4th a "
          "leader): orders/s")
    print(f"{'rules':>6}{'compiled':>10}" + "".join(f"{b:>10}" for b in BACKENDS) + f"{'ratio':>8}{'CPU/wall':>10}")
    for count in rule_counts:
        runs = {b: best_of(r, b, sweep_orders, 10_000, rules=count) for b in BACKENDS}
        agree(runs, f"{count} rules")
        print(f"{count:>6}{runs['python']['compiled_rules']:>10}"
              + "".join(f"{runs[b]['orders_per_s']:>10,.0f}" for b in BACKENDS)
              + f"{runs['python']['orders_per_s'] / runs['durable']['orders_per_s']:>7.1f}x"
              + f"{min(run['cpu_share'] for run in runs.values()):>10.2f}")
    print(f"\nDistributors ({sweep_orders:,} orders, default rules, network built directly through the store, every "
          "4th a leader): orders/s")
    print(f"{'distributors':>12}" + "".join(f"{b:>10}" for b in BACKENDS) + f"{'ratio':>8}{'CPU/wall':>10}"
          f"{'peak RSS MiB':>14}{'build s':>9}")
    for count in distributor_counts:
        runs = {b: best_of(r, b, sweep_orders, count) for b in BACKENDS}
        agree(runs, f"{count} distributors")
        print(f"{count:>12,}" + "".join(f"{runs[b]['orders_per_s']:>10,.0f}" for b in BACKENDS)
              + f"{runs['python']['orders_per_s'] / runs['durable']['orders_per_s']:>7.1f}x"
              + f"{min(run['cpu_share'] for run in runs.values()):>10.2f}"
              + f"{runs['python']['peak_rss_kb'] / 1024:>14,.0f}{runs['python']['network_s']:>9.1f}")

if __name__ == "__main__":
    main()
