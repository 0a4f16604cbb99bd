import sys, time, gc
sys.path.insert(0, 'bench')
stats = {}
t = [0]
def cb(phase, info):
    if phase == 'start': t[0] = time.perf_counter()
    else:
        g = info['generation']; c = stats.setdefault(g, [0, 0.0, 0]); c[0] += 1; c[1] += time.perf_counter() - t[0]; c[2] += info['collected']
import runpy
gc.callbacks.append(cb)
sys.argv = ['x'] + sys.argv[1:]
runpy.run_path('bench/_dev_cpu.py', run_name='__main__')
print({g: (n, round(s, 3), col) for g, (n, s, col) in stats.items()}, gc.get_count(), len(gc.get_objects()))
