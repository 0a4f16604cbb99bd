# temporary: count bytecodes executed per function (deterministic cost map) for created+paid
import sys, gc; sys.path.insert(0, 'bench')
from collections import Counter
import streams
from saleor_livedist.core.engine import Engine
from saleor_livedist.core.store import MemoryStore
from saleor_livedist.rules.loader import load_rules
from saleor_livedist.rules.provider import StaticRules
e = Engine(MemoryStore(), StaticRules(load_rules(), sys.argv[1] if len(sys.argv) > 1 else 'python'))
for ev in streams.network_events(2000) + streams.live_events(): e.process(ev)
ops = Counter(); lines = Counter()
def tracer(frame, event, arg):
    frame.f_trace_opcodes = True
    frame.f_trace_lines = False
    return local
def local(frame, event, arg):
    if event == 'opcode':
        co = frame.f_code
        name = co.co_name
        if name == '__init__' and co.co_filename == '<string>':
            name = '__init__ ' + type(frame.f_locals.get('self')).__name__
        ops[(co.co_filename.split('/')[-1], name)] += 1
    return local
orders = list(streams.orders(2000, 2000))
for o in orders[:500]:
    for ev in o.before: e.process(ev)
    e.process(o.created); e.process(o.paid)
n = 500
for o in orders[500:500 + n]:
    for ev in o.before: e.process(ev)
    sys.settrace(tracer)
    e.process(o.created); e.process(o.paid)
    sys.settrace(None)
tot = sum(ops.values())
print('bytecodes per order', tot / n)
for k, v in ops.most_common(45): print(f'{v / n:8.1f}  {k[0]}:{k[1]}')
