import sys, gc, time; sys.path.insert(0,'bench')
import streams
from collections import Counter
from saleor_livedist.core.engine import Engine
from saleor_livedist.core.store import MemoryStore
from saleor_livedist.rules.loader import load_rules
from saleor_livedist.rules.provider import StaticRules
e=Engine(MemoryStore(), StaticRules(load_rules(),'python'))
for ev in streams.network_events(10000)+streams.live_events(): e.process(ev)
gc.collect()
base=set(map(id, gc.get_objects(2)))
done=[0]
def cb(phase, info):
    if phase=='start' and info['generation']==2 and not done[0]:
        done[0]=1
        new=[o for o in gc.get_objects(2) if id(o) not in base]
        print(len(new), Counter(type(o).__name__ for o in new).most_common(12))
        import random
        tups=[o for o in new if type(o) is tuple]
        from collections import Counter as C
        print(C((len(t), type(t[0]).__name__, type(t[-1]).__name__) for t in tups).most_common(10))
        print([repr(o)[:120] for o in random.sample(tups, 6)])
gc.callbacks.append(cb)
for o in streams.orders(20000,10000):
    for ev in o.before+[o.created,o.paid]: e.process(ev)
