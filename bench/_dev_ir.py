# temporary dev harness: run N orders (for instruction counting under valgrind)
import sys, gc
sys.path.insert(0, 'bench')
import streams
from saleor_livedist.core.engine import Engine
from saleor_livedist.core.store import MemoryStore
from saleor_livedist.rules.loader import load_rules
from saleor_livedist.rules.provider import StaticRules
backend = sys.argv[1]; n = int(sys.argv[2]); rules_n = int(sys.argv[3]); total = int(sys.argv[4]); mode = sys.argv[5]
gc.disable()
if rules_n:
    from bench_engine import generated_rules
    rs = generated_rules(rules_n)
else:
    rs = load_rules()
e = Engine(MemoryStore(), StaticRules(rs, backend))
for ev in streams.network_events(2000) + streams.live_events(): e.process(ev)
orders = list(streams.orders(total, 2000))
for i, o in enumerate(orders):
    for ev in o.before: e.process(ev)
    if i < n or mode == 'all':
        e.process(o.created); e.process(o.paid)
