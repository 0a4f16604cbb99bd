# temporary dev harness (not committed): CPU time per order (created + paid), as the bench runs them
import sys, time, gc
sys.path.insert(0, 'bench')
import streams
from saleor_livedist.core.engine import Engine
from saleor_livedist.core.store import MemoryStore
from saleor_livedist.rules.loader import load_rules
from saleor_livedist.rules.provider import StaticRules
backend = sys.argv[1]; n = int(sys.argv[2]); dist = int(sys.argv[3]) if len(sys.argv) > 3 else 10000
prof = sys.argv[4] if len(sys.argv) > 4 else None
if prof == 'nogc':
    prof = None; gc.disable()
if '--nogc' in sys.argv:
    gc.disable()
e = Engine(MemoryStore(), StaticRules(load_rules(), backend))
for ev in streams.network_events(dist) + streams.live_events():
    e.process(ev)
if prof:
    import cProfile, pstats
    pr = cProfile.Profile()
cpu = 0.0
pc = time.process_time
for o in streams.orders(n, dist):
    for ev in o.before:
        e.process(ev)
    if prof: pr.enable()
    c0 = pc()
    e.process(o.created); e.process(o.paid)
    cpu += pc() - c0
    if prof: pr.disable()
if prof:
    pstats.Stats(pr).sort_stats(prof).print_stats(40)
print(backend, 'cpu us/order', round(cpu / n * 1e6, 1), 'orders/s(cpu)', round(n / cpu))
if '--gcend' in sys.argv:
    for i in range(2):
        t = time.perf_counter(); c = time.process_time(); gc.collect(); print('full gc', round(time.perf_counter() - t, 3), round(time.process_time() - c, 3), len(gc.get_objects()))
from collections import Counter
if '--types' in sys.argv: print(Counter(type(o).__name__ for o in gc.get_objects()).most_common(15))
