"""bench/gemm_prepacked.py — how much of a tuned GEMM's time is the packing of B: the best record
of a log (its kernel packs B itself), the same packing alone, and the no-cache order-2 loop nest
(column panels, k blocks, row tiles; the best structure at 128 rows) reading a B that is already
packed, next to oneDNN's dnnl_sgemm, in one process, interleaved, each result checked first.

    PYTHONPATH=python:build/python TE_NUM_THREADS=2 OMP_NUM_THREADS=2 \\
      python3 bench/gemm_prepacked.py tuning_logs/bert_gemm_llvm.jsonl 128,768,3072 6,64,256

The last argument is the pre-packed nest's tile_i, tile_j, tile_k. Prints min ms, GFLOP/s and the
ratio to oneDNN (above 1: faster). REPS (default 11) repeats. Used for BENCHMARKS.md ("where the
128-row GEMMs lose"). Needs libdnnl.so.2 (Debian libdnnl-dev).
"""
import json
import os
import sys
import time

import numpy as np

import onednn_sgemm  # bench/, next to this script
import te
from te import _core


def best_record(log, key):
    best = None
    with open(log) as f:
        for line in f:
            r = json.loads(line)
            if r["workload_key"] != key or r["error"] != "none":
                continue
            cost = sorted(r["costs"])[len(r["costs"]) // 2]
            if best is None or cost < best[0]:
                best = (cost, r)
    if best is None:
        sys.exit(f"no valid record of {key} in {log}")
    return best[1]


def prepacked_kernel(m, n, k, ti, tj, tk):
    """C = A x P with P = B packed into [n / 32, k, 32] panels, scheduled as the matmul template's
    no-cache order-2 path (split_panel_tile for 64-column tiles)."""
    a = te.placeholder((m, k), "float32", "A")
    p = te.placeholder((n // 32, k, 32), "float32", "P")
    r = te.reduce_axis((0, k), "k")
    c = te.compute((m, n), lambda i, j: te.sum(a[i, r] * p[j // 32, r, j % 32], axis=r), "C")
    s = te.create_schedule(c.op)
    st = s[c]
    i, j = st.op.axis
    io, ii = st.split(i, factor=ti)
    jo, ji = st.split(j, factor=tj)
    ko, ki = st.split(r, factor=tk)
    st.reorder(jo, ko, io, ki, ii, ji)
    if tj > 32:
        whole, lanes = st.split(ji, factor=32)
        st.unroll(whole)
        st.vectorize(lanes)
    else:
        st.vectorize(ji)
    st.unroll(ii)
    st.parallel(jo)
    return te.build(s, [a, p, c], "llvm", "prepacked")


def pack_kernel(n, k):
    """The template's packedB alone (whole B, vectorized, panels in parallel)."""
    b = te.placeholder((k, n), "float32", "B")
    p = te.compute((n // 32, k, 32), lambda q, kk, l: b[kk, q * 32 + l], "packedB")
    s = te.create_schedule(p.op)
    s[p].vectorize(p.op.axis[2])
    s[p].parallel(p.op.axis[0])
    return te.build(s, [b, p], "llvm", "pack")


def main():
    if len(sys.argv) != 4:
        sys.exit(__doc__)
    _core._autotune.register_builtin_templates()
    log = sys.argv[1]
    m, n, k = (int(x) for x in sys.argv[2].split(","))
    ti, tj, tk = (int(x) for x in sys.argv[3].split(","))
    if n % 32 or n % tj:
        sys.exit("n must be a multiple of 32 and of tile_j")
    key = f"matmul({m},{n},{k})"
    record = best_record(log, key)
    task = _core._autotune.create_task("matmul", [m, n, k], "llvm")
    s, args = task.replay(json.dumps(record["steps"]))
    tuned = te.build(s, args, "llvm", "tuned")

    rng = np.random.default_rng(0)
    a = onednn_sgemm.aligned(rng.standard_normal((m, k)).astype("float32"))
    b = onednn_sgemm.aligned(rng.standard_normal((k, n)).astype("float32"))
    packed = np.ascontiguousarray(b.reshape(k, n // 32, 32).transpose(1, 0, 2))
    ref = onednn_sgemm.aligned(np.zeros((m, n), "float32"))
    onednn = onednn_sgemm.sgemm(a, b, ref)
    onednn()
    ta, tb, tp = te.nd.array(a), te.nd.array(b), te.nd.array(packed)
    runs = [("oneDNN", onednn, 2.0 * m * n * k)]
    for name, mod, inputs in (("best record", tuned, (ta, tb)),
                              (f"pre-packed B {ti}x{tj} k{tk}", prepacked_kernel(m, n, k, ti, tj, tk), (ta, tp))):
        runs.append((name, onednn_sgemm.checked_te_run(name, mod, inputs, ref), 2.0 * m * n * k))
    pack = pack_kernel(n, k)
    out = te.nd.array(np.zeros((n // 32, k, 32), "float32"))
    pack(tb, out)
    if not np.array_equal(out.numpy(), packed):
        sys.exit("pack: wrong result")
    runs.append(("B pack alone", lambda: pack(tb, out), 0.0))

    times = {name: [] for name, _, _ in runs}
    calls = max(3, int(0.02 / (2 * m * n * k / 200e9)))  # about 20 ms per repeat
    for _ in range(int(os.environ.get("REPS", "11"))):
        for name, run, _ in runs:
            run()
            start = time.perf_counter()
            for _ in range(calls):
                run()
            times[name].append((time.perf_counter() - start) / calls)
    base = min(times["oneDNN"])
    print(f"{key}, best record {record['config']}")
    for name, _, flop in runs:
        t = min(times[name])
        rate = f"{flop / t / 1e9:6.1f} GFLOP/s, {base / t:.2f}x oneDNN" if flop else f"{t / min(times['best record']):.0%} of the best record's time"
        print(f"  {name:28s} min {t * 1e3:8.3f} ms ({rate})")


if __name__ == "__main__":
    main()
