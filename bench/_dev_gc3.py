import sys, gc, time; sys.path.insert(0,'bench')
import streams
from saleor_livedist.core.engine import Engine
from saleor_livedist.core.store import MemoryStore
from saleor_livedist.rules.loader import load_rules
from saleor_livedist.rules.provider import StaticRules
e=Engine(MemoryStore(), StaticRules(load_rules(),sys.argv[1]))
for ev in streams.network_events(10000)+streams.live_events(): e.process(ev)
log=[]; t=[0]; n=[0]
def cb(phase, info):
    if phase=='start': t[0]=time.process_time()
    elif info['generation']==2: log.append((n[0], round((time.process_time()-t[0])*1000,1), len(gc.get_objects(2))))
gc.callbacks.append(cb)
for o in streams.orders(int(sys.argv[2]),10000):
    for ev in o.before+[o.created,o.paid]: e.process(ev)
    n[0]+=1
print(log)
print(gc.get_stats())
c=time.process_time(); gc.collect(); print('final full gc ms', (time.process_time()-c)*1000)
