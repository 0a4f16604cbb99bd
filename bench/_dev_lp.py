# temporary dev harness: line profile of the hot path
import sys, gc
sys.path.insert(0, 'bench')
import streams
from line_profiler import LineProfiler
from saleor_livedist.core import engine as E, pricing as P, ledger as L, attribution as A, store as S
from saleor_livedist.rules import backends as B
from saleor_livedist.core.engine import Engine
from saleor_livedist.core.store import MemoryStore
from saleor_livedist.rules.loader import load_rules
from saleor_livedist.rules.provider import StaticRules
gc.disable()
lp = LineProfiler()
for f in [E.Engine._on_order_created, E.Engine._chain, E.Engine._project, E.Engine._on_first_payment, E.Engine._on_order_lifecycle,
          E.Engine.process, P.price_lines, P.build_facts, L.project, L._Book.add, A.attribute, A.live_context]:
    pass
for f in [E.Engine.process, E.Engine._on_order_created, E.Engine._on_order_lifecycle, E.Engine._project]:
    lp.add_function(f)
e = Engine(MemoryStore(), StaticRules(load_rules(), sys.argv[1]))
for ev in streams.network_events(10000) + streams.live_events(): e.process(ev)
for o in streams.orders(int(sys.argv[2]), 10000):
    for ev in o.before: e.process(ev)
    lp.enable(); e.process(o.created); e.process(o.paid); lp.disable()
lp.print_stats(output_unit=1e-6, stripzeros=True)
