"""bench/gemm_k_outer.py — hand-written GEMM schedules outside the "matmul" template's space, next
to the template's best record and oneDNN's dnnl_sgemm, with per-call time percentiles: the
measurement behind "GEMM on machine D — thirteenth session" in BENCHMARKS.md.

    PYTHONPATH=python:build/python:bench TE_NUM_THREADS=2 OMP_NUM_THREADS=2 \\
      python3 bench/gemm_k_outer.py 128,768,3072 6,64,64,6,kout 6,64,128,6,kout 6,64,128,1,pout

Each spec is tile_i,tile_j,tile_k,chunk,order. Both orders pack B block by block (tile_k rows of a
tile_j-column panel, into PW-column sub-panels: env PW, default 32) and prefetch the next block
while the current one is used, C accumulating in place with each row tile's accumulators in
registers inside a k block:
  kout — oneDNN's order for few rows: panels split into chunks of `chunk` (the parallel loop),
         then k blocks, then the chunk's panels, then row tiles, so a k block of A stays in L2
         across the chunk's panels and every packed block is used by all rows;
  pout — panels, then k blocks, then row tiles (the template's no-cache order 2).
The template's best record of LOG (env LOG, default tuning_logs/bert_gemm_llvm.jsonl, this
machine's records) runs as "best". Every result is checked against oneDNN's first. Each run is
timed call by call (CALLS calls, default 300, after 20 untimed) in blocks, the blocks in turn
(REPS rounds, default 2) after a 100 ms pause; prints the 5th, 50th and 95th percentile ms per
block, then the medians' ratio to oneDNN (above 1: te faster). Needs libdnnl.so.2 (Debian
libdnnl-dev).
"""
import os
import sys
import time

import numpy as np

import onednn_sgemm  # bench/, next to this script
import te
import te.autotune as at


def k_blocked_gemm(m, n, k, tile_i, tile_j, tile_k, chunk, order, panel):
    """The kernel of one spec (see the module docstring)."""
    a = te.placeholder((m, k), name="A")
    b = te.placeholder((k, n), name="B")
    packed = te.compute((n // panel, k, panel), lambda jo, kk, ji: b[kk, jo * panel + ji], name="packedB")
    kv = te.reduce_axis((0, k), name="k")
    c = te.compute((m, n), lambda i, j: te.sum(a[i, kv] * packed[j // panel, kv, j % panel], axis=kv), name="C")
    s = te.create_schedule(c.op)
    i, j = c.op.axis
    io, ii = s[c].split(i, factor=tile_i)
    jo, ji = s[c].split(j, factor=tile_j)
    ko, ki = s[c].split(kv, factor=tile_k)
    jc, jp = s[c].split(jo, factor=chunk)
    jv, lanes = s[c].split(ji, factor=panel)
    if order == "kout":
        s[c].reorder(jc, ko, jp, io, ki, ii, jv, lanes)
    else:
        s[c].reorder(jc, jp, ko, io, ki, ii, jv, lanes)
    s[c].unroll(ii)
    s[c].unroll(jv)
    s[c].vectorize(lanes)
    s[c].parallel(jc)
    s[packed].compute_at(s[c], jp)
    s[packed].vectorize(s[packed].op.axis[2])
    s[c].prefetch(b, jp, 1, spread=io)
    return te.build(s, [a, b, c], "llvm")


def main():
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    m, n, k = (int(x) for x in sys.argv[1].split(","))
    panel = int(os.environ.get("PW", "32"))
    rng = np.random.default_rng(0)
    a = onednn_sgemm.aligned(rng.standard_normal((m, k)).astype("float32"))
    b = onednn_sgemm.aligned(rng.standard_normal((k, n)).astype("float32"))
    ref = onednn_sgemm.aligned(np.zeros((m, n), "float32"))
    onednn = onednn_sgemm.sgemm(a, b, ref)
    onednn()

    kernels = []
    task = at.create_task("matmul", (m, n, k))
    log = os.environ.get("LOG", "tuning_logs/bert_gemm_llvm.jsonl")
    s, args = task.apply_history_best(log, quiet=True)
    kernels.append(("best", te.build(s, args, "llvm")))
    for spec in sys.argv[2:]:
        ti, tj, tk, chunk, order = spec.split(",")
        if order not in ("kout", "pout"):
            sys.exit(f"{spec}: order must be kout or pout")
        kernels.append((spec, k_blocked_gemm(m, n, k, int(ti), int(tj), int(tk), int(chunk), order, panel)))

    runs = [("oneDNN", onednn)]
    for name, mod in kernels:
        runs.append((name, onednn_sgemm.checked_te_run(name, mod, (te.nd.array(a), te.nd.array(b)), ref)))

    calls = int(os.environ.get("CALLS", "300"))
    medians = {name: [] for name, _ in runs}
    for _ in range(int(os.environ.get("REPS", "2"))):
        for name, run in runs:
            time.sleep(0.1)  # oneDNN's OpenMP threads spin after its last call: let them sleep
            for _ in range(20):
                run()
            per_call = []
            for _ in range(calls):
                start = time.perf_counter()
                run()
                per_call.append((time.perf_counter() - start) * 1e3)
            p5, p50, p95 = np.percentile(per_call, [5, 50, 95])
            medians[name].append(p50)
            print(f"{m},{n},{k} {name:18s} ms per call: p5 {p5:6.3f}  p50 {p50:6.3f}  p95 {p95:6.3f}")
    base = np.median(medians["oneDNN"])
    for name, _ in runs:
        print(f"{name:18s} median of the blocks' p50 {np.median(medians[name]):.3f} ms, "
              f"{base / np.median(medians[name]):.2f}x oneDNN")


if __name__ == "__main__":
    main()
