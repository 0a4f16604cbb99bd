# temporary dev harness: robust per-order cost (GC off, trimmed mean of fastest 90%, best of runs)
import sys, time, gc
sys.path.insert(0, 'bench')
import streams
from saleor_livedist.core.engine import Engine
from saleor_livedist.core.store import MemoryStore
from saleor_livedist.rules.loader import load_rules
from saleor_livedist.rules.provider import StaticRules
backend = sys.argv[1]; n = int(sys.argv[2]); runs = int(sys.argv[3]) if len(sys.argv) > 3 else 3
rules_n = int(sys.argv[4]) if len(sys.argv) > 4 else 0
gc.disable()
net = streams.network_events(10000) + streams.live_events()
orders = list(streams.orders(n, 10000))
if rules_n:
    from bench_engine import generated_rules
    rs = generated_rules(rules_n)
else:
    rs = load_rules()
best = None
for r in range(runs):
    e = Engine(MemoryStore(), StaticRules(rs, backend))
    for ev in net: e.process(ev)
    ts = []
    pc = time.perf_counter
    for o in orders:
        for ev in o.before: e.process(ev)
        t = pc(); e.process(o.created); e.process(o.paid); ts.append(pc() - t)
    ts.sort()
    tm = sum(ts[: int(len(ts) * 0.9)]) / int(len(ts) * 0.9)
    p50 = ts[len(ts) // 2]
    best = min(best or 1, tm)
    print(f'{backend} run {r}: trimmed mean {tm*1e6:.1f} us, p50 {p50*1e6:.1f} us')
print(f'{backend} best trimmed mean {best*1e6:.1f} us/order -> {1/best:,.0f} orders/s')
