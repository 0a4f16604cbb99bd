import sys, gc, time; sys.path.insert(0,'bench')
import streams
from saleor_livedist.core.engine import Engine
from saleor_livedist.core.store import MemoryStore
from saleor_livedist.rules.loader import load_rules
from saleor_livedist.rules.provider import StaticRules
if '--nogc' in sys.argv: gc.disable()
e=Engine(MemoryStore(), StaticRules(load_rules(),sys.argv[1]))
for ev in streams.network_events(10000)+streams.live_events(): e.process(ev)
pc=time.perf_counter; ts=[]; out=[]
n=int(sys.argv[2])
for i,o in enumerate(streams.orders(n,10000)):
    for ev in o.before: e.process(ev)
    t=pc(); e.process(o.created); e.process(o.paid); ts.append(pc()-t)
    if len(ts)==10000:
        ts.sort(); out.append((round(ts[5000]*1e6,1), round(sum(ts)/len(ts)*1e6,1))); ts=[]
print(sys.argv[1:], 'p50/mean per 10k window (us):', out)
