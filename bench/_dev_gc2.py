import sys, gc, time; sys.path.insert(0,'bench')
stats = {}; t = [0]
def cb(phase, info):
    if phase == 'start': t[0] = time.process_time()
    else:
        c = stats.setdefault(info['generation'], [0, 0.0]); c[0] += 1; c[1] += time.process_time() - t[0]
from bench_engine import measure
gc.callbacks.append(cb)
c0 = time.process_time()
r = measure(sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), 0, sys.argv[4] if len(sys.argv) > 4 else 'engine')
print(sys.argv[1:], {k: round(r[k], 3) for k in ['orders_per_s', 'p50_ms', 'p99_ms', 'cpu_share']}, 'cpu total', round(time.process_time() - c0, 2),
      'gc', {g: (n, round(s, 2)) for g, (n, s) in stats.items()})
