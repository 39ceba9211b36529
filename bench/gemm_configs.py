"""bench/gemm_configs.py — chosen configs of the "matmul" template against oneDNN's dnnl_sgemm,
in one process, interleaved (every repeat times oneDNN and each config in turn, so a load spike
hits them all), each te result checked against oneDNN's first.

    PYTHONPATH=python:build/python TE_NUM_THREADS=1 OMP_NUM_THREADS=1 \\
      python3 bench/gemm_configs.py 128,768,3072 \\
      'old={"cache_write": 1, "order": 2, "pack_b": 1, ...}' 'new={...}'

A config is the template's JSON (knob name -> choice index, as `Config.to_json` and the logs'
"config" field write it). Prints min and median ms per config and its ratio to oneDNN's
(above 1: te faster). REPS (default 11) repeats. Each block starts after a 50 ms pause: without
it, oneDNN's spinning OpenMP threads slowed the te config timed after oneDNN by up to 20% (an
artifact once reported as "configs the tuner missed" in BENCHMARKS.md). Used for BENCHMARKS.md when the machine was
too loaded to tune at 2 threads. Needs libdnnl.so.2 (Debian libdnnl-dev).
"""
import os
import sys
import time

import numpy as np

import onednn_sgemm  # bench/, next to this script
import te
from te import _core


def main():
    if len(sys.argv) < 3:
        sys.exit(__doc__)
    _core._autotune.register_builtin_templates()
    at = _core._autotune
    m, n, k = (int(x) for x in sys.argv[1].split(","))
    task = at.create_task("matmul", [m, n, k], "llvm")
    rng = np.random.default_rng(0)
    a = onednn_sgemm.aligned(rng.standard_normal((m, k)).astype("float32"))
    b = onednn_sgemm.aligned(rng.standard_normal((k, n)).astype("float32"))
    ref = onednn_sgemm.aligned(np.zeros((m, n), "float32"))
    onednn = onednn_sgemm.sgemm(a, b, ref)
    onednn()
    runs = [("oneDNN", onednn)]
    for spec in sys.argv[2:]:
        name, config_json = spec.split("=", 1)
        s, args = task.instantiate(task.space.from_json(config_json))
        mod = te.build(s, args, "llvm")
        runs.append((name, onednn_sgemm.checked_te_run(name, mod, (te.nd.array(a), te.nd.array(b)), ref)))
    times = {name: [] for name, _ in runs}
    calls = max(3, int(0.02 / (2 * m * n * k / 200e9)))  # about 20 ms per repeat
    for _ in range(int(os.environ.get("REPS", "11"))):
        for name, run in runs:
            # oneDNN's OpenMP threads spin for a while after its last call (libgomp's default
            # wait policy) and would take the cores from whatever runs next: let them sleep.
            time.sleep(0.05)
            run()
            start = time.perf_counter()
            for _ in range(calls):
                run()
            times[name].append((time.perf_counter() - start) / calls)
    base_min, base_med = min(times["oneDNN"]), float(np.median(times["oneDNN"]))
    for name, _ in runs:
        t_min, t_med = min(times[name]), float(np.median(times[name]))
        print(f"{m},{n},{k} {name:12s} min {t_min * 1e3:8.3f} ms ({2 * m * n * k / t_min / 1e9:6.1f} GFLOP/s, "
              f"{base_min / t_min:.2f}x oneDNN)  median {t_med * 1e3:8.3f} ms ({base_med / t_med:.2f}x)")


if __name__ == "__main__":
    main()
