"""te's tuned CUDA kernels (the best record of each workload in tuning logs, through
apply_history_best) next to what a PyTorch user calls: cuDNN (torch.nn.functional.conv2d) for
conv2d, cuBLAS (torch.matmul / torch.bmm) for matmul and batch_matmul; fp32 with TF32 off, in
one run on one GPU, each te result checked against torch first (outputs pre-filled with NaN).
The GPU half of issue 6's tables (bench/BENCHMARKS.md).

  python bench/tuned_cuda.py tuning_logs/resnet18_conv_cuda.jsonl tuning_logs/bert_gemm_cuda.jsonl
  python bench/tuned_cuda.py LOG... --sets resnet18-conv --extra matmul:4096,4096,4096
  python bench/tuned_cuda.py --dry-run --sets resnet18-conv,bert-gemm   # no GPU: NVRTC only

Workloads: every workload of the named sets (--sets, default resnet18-conv,bert-gemm) plus
--extra op:args. A workload without a record in the logs runs the template's default schedule,
marked "default" (never silently counted as tuned). Prints te and torch median milliseconds,
te GFLOP/s, torch/te (above 1: te faster), and the geometric mean per set, then each kernel's
fraction of the GPU's fp32 peak (as cuBLAS reaches it) and memory bandwidth, both measured in
the same run (the roofline); --markdown FILE writes the same tables as Markdown."""
import argparse
import math
import os
import re
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import te  # noqa: E402
from matmul_cuda import median_ms, torch_for_timing  # noqa: E402
from te import _core  # noqa: E402

TARGET = "cuda"


def workloads(sets, extras):
    known = te.ops.workload_sets()
    out = []
    for name in sets:
        if name not in known:
            sys.exit(f"tuned_cuda.py: unknown workload set '{name}'; known: {', '.join(sorted(known))}")
        out += [(name, w["label"], w["op"], list(w["args"])) for w in known[name]]
    for text in extras:
        op, _, args = text.partition(":")
        if not args:
            sys.exit(f"tuned_cuda.py: --extra '{text}' is not op:a,b,c (e.g. matmul:4096,4096,4096)")
        out.append(("extra", f"{op}({args})", op, [int(x) for x in args.split(",")]))
    return out


def best_schedule(task, logs):
    """(schedule, args, where) from the first log with a valid record, else the default."""
    for log in logs:
        records, _ = _core._autotune.read_log(log)
        if _core._autotune.best_record(records, task.workload_key, TARGET) is not None:
            s, args = _core._autotune.apply_history_best(log, task)
            return s, args, os.path.basename(log)
    s, args = task.instantiate(task.space.from_index(0))
    return s, args, "default"


def torch_reference(op, args, inputs):
    """The library call a PyTorch user makes for this workload, on the te kernel's inputs."""
    import torch
    import torch.nn.functional as F
    if op == "conv2d":
        stride, pad = args[7], args[8]
        return lambda: F.conv2d(inputs[0], inputs[1], stride=stride, padding=pad)
    if op in ("matmul", "matmul_fp16"):  # float16: cuBLAS on the tensor cores, float32 accumulation
        return lambda: torch.matmul(inputs[0], inputs[1])
    if op == "batch_matmul":
        trans_a, trans_b = args[4], args[5]
        return lambda: torch.bmm(inputs[0].transpose(1, 2) if trans_a else inputs[0],
                                 inputs[1].transpose(1, 2) if trans_b else inputs[1])
    sys.exit(f"tuned_cuda.py: no torch reference for operator '{op}' (conv2d, matmul, matmul_fp16, batch_matmul)")


def roofline_table(torch, rows, repeat, warmup):
    """Each kernel against this GPU's limits measured in the same run (issue 6 §5): the fp32
    arithmetic peak as cuBLAS reaches it (an 8192^3 SGEMM, TF32 off) and the memory bandwidth of
    a 1 GiB device-to-device copy (bytes read + written). A kernel's traffic is counted as its
    arguments' bytes once each, the least it can move."""
    n = 8192
    x, y = torch.randn(n, n, device="cuda"), torch.randn(n, n, device="cuda")
    gemm_ms = median_ms(lambda: torch.matmul(x, y), torch.cuda.synchronize, max(3, repeat // 4), 2)
    peak_gflops = 2.0 * n ** 3 / gemm_ms / 1e6
    del x, y
    src = torch.empty(1 << 28, device="cuda")  # 1 GiB of float32
    dst = torch.empty_like(src)
    copy_ms = median_ms(lambda: dst.copy_(src), torch.cuda.synchronize, repeat, warmup)
    bandwidth = 2.0 * src.numel() * 4 / copy_ms / 1e6  # GB/s
    del src, dst
    lines = [f"roofline: fp32 peak {peak_gflops:.0f} GFLOP/s (cuBLAS SGEMM {n}^3, TF32 off), "
             f"bandwidth {bandwidth:.0f} GB/s (1 GiB device copy)", "",
             "| workload | te GFLOP/s | of the fp32 peak | te GB/s (arguments once) | of the bandwidth |",
             "|---|---:|---:|---:|---:|"]
    for r in rows:
        gbs = r[9] / r[4] / 1e6
        lines.append(f"| {r[1]} `{r[2]}` | {r[6]:.0f} | {r[6] / peak_gflops:.0%} | {gbs:.0f} | {gbs / bandwidth:.0%} |")
    return "\n".join(lines) + "\n"


def geomean(values):
    return math.exp(sum(math.log(v) for v in values) / len(values)) if values else float("nan")


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("logs", nargs="*", help="tuning logs (JSON lines) holding target 'cuda' records")
    p.add_argument("--sets", default="resnet18-conv,bert-gemm", help="comma-separated workload sets")
    p.add_argument("--extra", action="append", default=[], help="op:args, e.g. matmul:4096,4096,4096")
    p.add_argument("--repeat", type=int, default=20)
    p.add_argument("--warmup", type=int, default=5)
    p.add_argument("--dry-run", action="store_true", help="build and NVRTC-compile only (no GPU needed)")
    p.add_argument("--markdown", help="also write the table as Markdown to this file")
    a = p.parse_args()
    for log in a.logs:
        if not os.path.exists(log):
            sys.exit(f"tuned_cuda.py: log '{log}' does not exist")
    _core._autotune.register_builtin_templates()
    built = []
    for set_name, label, op, args in workloads([s for s in a.sets.split(",") if s], a.extra):
        task = _core._autotune.create_task(op, args, TARGET)
        s, targs, where = best_schedule(task, a.logs)
        f = te.build(s, targs, TARGET, name=re.sub(r"\W", "_", f"{op}_{label}"))  # a C identifier
        ptx = f.get_source("ptx")  # NVRTC now: a compile error shows before any timing
        built.append((set_name, label, op, args, task, targs, f, where))
        if a.dry_run:
            print(f"{set_name:>14} {label:>10} {task.workload_key:>44}: {where}, PTX {len(ptx)} bytes (dry run)")
    if a.dry_run:
        return 0

    torch = torch_for_timing()
    if torch is None:
        return 2
    header = (f"device: {te.cuda(0).name} (torch {torch.__version__}, cuDNN {torch.backends.cudnn.version()}); "
              f"fp32 with TF32 off (matmul_fp16: float16 with float32 accumulation); median of {a.repeat} after {a.warmup} warm-up")
    print(header)
    rows, ratios, failed = [], {}, 0
    for set_name, label, op, args, task, targs, f, where in built:
        torch.manual_seed(0)
        shapes = [tuple(int(d) for d in t.shape) for t in targs]
        dtypes = [getattr(torch, t.dtype) for t in targs]
        inputs = [torch.randn(shape, device="cuda").to(dtype) for shape, dtype in zip(shapes[:-1], dtypes)]
        out = torch.full(shapes[-1], float("nan"), device="cuda", dtype=dtypes[-1])
        views = [te.nd.from_dlpack(t) for t in inputs + [out]]
        f(*views)
        ref_fn = torch_reference(op, args, inputs)
        ref = ref_fn()
        err = (out.float() - ref.float()).abs().max().item()
        # float16 output: a few float16 ulps at the output's magnitude (both round once).
        tol = (4e-3 if out.dtype == torch.float16 else 1e-3) * max(1.0, ref.abs().max().item())
        ok = bool(torch.isfinite(out).all().item()) and err <= tol
        te_ms = median_ms(lambda: f(*views), torch.cuda.synchronize, a.repeat, a.warmup)
        ref_ms = median_ms(ref_fn, torch.cuda.synchronize, a.repeat, a.warmup)
        ratio = ref_ms / te_ms
        if ok:
            ratios.setdefault(set_name, []).append(ratio)
        else:
            failed += 1
        moved = sum(t.numel() * t.element_size() for t in inputs + [out])  # each byte once: the least traffic
        rows.append((set_name, label, task.workload_key, where, te_ms, ref_ms, task.flop / te_ms / 1e6, ratio,
                     err if ok else f"{err:.2e} WRONG (tolerance {tol:.2e})", moved))
        print(f"{set_name:>14} {label:>10} {where:>26} te {te_ms:8.3f} ms  torch {ref_ms:8.3f} ms  "
              f"{task.flop / te_ms / 1e6:9.1f} GFLOP/s  torch/te {ratio:5.2f}  max|err| {rows[-1][-1] if not ok else f'{err:.1e}'}")
    for set_name, values in ratios.items():
        print(f"{set_name}: geometric mean torch/te {geomean(values):.2f} over {len(values)} workloads")
    try:
        roofline = roofline_table(torch, rows, a.repeat, a.warmup)
    except Exception as e:  # the comparison above stands without it
        roofline = f"(roofline not measured: {type(e).__name__}: {e})\n"
    print(roofline)
    if a.markdown:
        with open(a.markdown, "w") as md:
            md.write(header + "\n\n| set | workload | key | schedule | te ms | torch ms | te GFLOP/s | torch/te | max abs err |\n")
            md.write("|---|---|---|---|---:|---:|---:|---:|---|\n")
            for r in rows:
                err = r[8] if isinstance(r[8], str) else f"{r[8]:.1e}"
                md.write(f"| {r[0]} | {r[1]} | `{r[2]}` | {r[3]} | {r[4]:.3f} | {r[5]:.3f} | {r[6]:.0f} | {r[7]:.2f} | {err} |\n")
            for set_name, values in ratios.items():
                md.write(f"| {set_name} | geometric mean | | | | | | **{geomean(values):.2f}** | |\n")
            md.write("\n" + roofline)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
