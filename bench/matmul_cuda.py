"""te's hand-scheduled fp32 matmul (bench/cuda_schedules.py: 128x128 block tiles through shared
memory, 8x8 register tiles per thread) next to cuBLAS (torch.matmul, TF32 off), in one run on
one GPU. Correctness is checked against torch in the same run (outputs pre-filled with NaN).

  python bench/matmul_cuda.py [--sizes 4096 2048] [--repeat 20] [--warmup 5]
  python bench/matmul_cuda.py --dry-run   # no GPU: build + NVRTC-compile the kernels only
  python bench/matmul_cuda.py --vthreads 2   # the strided (vthread) register tiles
  python bench/matmul_cuda.py --vthreads 2 --double-buffer   # ... with double-buffered shared tiles
  python bench/matmul_cuda.py --dtype float16   # fp16 GEMM, float32 accumulation, vs cuBLAS fp16
  python bench/matmul_cuda.py --dtype float16 --tensor-cores   # ... te on the tensor cores too
  python bench/matmul_cuda.py --dtype float16 --tensor-cores --stages 3   # ... 3 shared buffers (cp.async pipeline)

--dtype float16: A, B and C are float16. te accumulates in float32 on the CUDA cores (FFMA on
values converted from __half) and rounds C to float16 once. With --tensor-cores te runs the
matmul_fp16 template's default config instead: warps of 16 x 16 x 16 wmma tiles (HMMA, float32
accumulators, Stage.tensorize) over double-buffered float16 shared tiles. cuBLAS (torch.matmul on half tensors) runs on the tensor cores (HMMA); with
torch.backends.cuda.matmul.allow_fp16_reduced_precision_reduction = False, set here, it
accumulates in float32 too. Both are checked against a float32 matmul of the same float16
inputs (TF32 off): within one float16 ulp at the output's largest magnitude.

Prints one line per size: te and cuBLAS median milliseconds, TFLOP/s, ratio te/cuBLAS."""
import argparse
import os
import sys
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import cuda_schedules  # noqa: E402
import te  # noqa: E402
import te.autotune  # noqa: E402  (the matmul_fp16 template, --tensor-cores)


def build(n, target, vthreads=1, dtype="float32", double_buffer=False, tensor_cores=False, stages=2):
    if tensor_cores:  # the matmul_fp16 template's default config (its tensor-core structure), `stages` buffers
        task = te.autotune.create_task("matmul_fp16", [n, n, n], target)
        config = {knob.name: 0 for knob in task.config(0).knobs}  # each knob's first choice
        config["stages"] = [2, 3, 4, 1].index(stages)
        s, args = task.instantiate(config)
    else:
        s, args = cuda_schedules.matmul(n, n, n, vthreads=vthreads, dtype=dtype, double_buffer=double_buffer,
                                        stages=stages)
    f = te.build(s, args, target, name=f"matmul_{n}" if dtype == "float32" else f"hgemm_{n}")
    f.get_source("ptx")  # NVRTC now, so a compile error shows before any timing
    return f


def median_ms(fn, sync, repeat, warmup):
    for _ in range(warmup):
        fn()
    sync()
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        sync()
        times.append((time.perf_counter() - start) * 1e3)
    return float(np.median(times))


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--sizes", type=int, nargs="+", default=[4096, 2048, 1024])
    p.add_argument("--repeat", type=int, default=20)
    p.add_argument("--warmup", type=int, default=5)
    p.add_argument("--target", default="cuda")
    p.add_argument("--dry-run", action="store_true", help="build and compile only (no GPU needed)")
    p.add_argument("--vthreads", type=int, default=1, help="virtual threads per tile axis (cuda_schedules.matmul)")
    p.add_argument("--double-buffer", action="store_true", help="double-buffer the shared tiles (Stage.double_buffer)")
    p.add_argument("--stages", type=int, default=2, choices=[1, 2, 3, 4],
                   help="buffers of the shared tiles: with --double-buffer or --tensor-cores, 3 or 4 make a "
                        "cp.async pipeline (Stage.pipeline) on sm_80 and newer")
    p.add_argument("--tensor-cores", action="store_true",
                   help="float16 only: the matmul_fp16 template's default (tensor-core, wmma) config")
    p.add_argument("--dtype", choices=["float32", "float16"], default="float32",
                   help="float16: fp16 A/B/C with float32 accumulation, next to cuBLAS fp16")
    a = p.parse_args()
    if a.tensor_cores and a.dtype != "float16":
        p.error("--tensor-cores needs --dtype float16 (tensor cores take float16 inputs)")
    for n in a.sizes:
        f = build(n, a.target, a.vthreads, a.dtype, a.double_buffer, a.tensor_cores, a.stages)
        if a.dry_run:
            print(f"matmul {n}^3 {a.dtype}: built for '{a.target}', PTX {len(f.get_source('ptx'))} bytes (dry run)")
    if a.dry_run:
        return 0
    return run(a)


def torch_for_timing():
    """PyTorch set up as the GPU benchmarks compare against it — TF32 off (fp32 cuBLAS and cuDNN,
    and the float32 references), cuBLAS fp16 accumulating in float32, cuDNN picking its fastest
    algorithm — or None, said on stderr, without a CUDA device. Shared by the GPU benchmarks."""
    import torch
    if not torch.cuda.is_available() or not te.cuda(0).exist:
        print("no CUDA device: nothing measured (use --dry-run to only compile)", file=sys.stderr)
        return None
    torch.backends.cuda.matmul.allow_tf32 = False
    torch.backends.cudnn.allow_tf32 = False
    torch.backends.cudnn.benchmark = True
    torch.backends.cuda.matmul.allow_fp16_reduced_precision_reduction = False
    return torch


def run(a):
    """Times te next to cuBLAS for every size in a.sizes, in a.dtype (float32 or float16)."""
    torch = torch_for_timing()
    if torch is None:
        return 2
    half = a.dtype == "float16"
    dtype = torch.float16 if half else torch.float32
    if half:
        print(f"device: {te.cuda(0).name} (torch {torch.__version__}); float16 A, B, C; median of {a.repeat} after "
              f"{a.warmup} warm-up")
        print(("te: tensor cores (wmma), float32 accumulation" if a.tensor_cores else
               "te: CUDA cores, float32 accumulation (no tensor cores)") + "; cuBLAS: torch.matmul on half tensors, "
              "tensor cores, float32 accumulation (reduced-precision reduction off)")
    else:
        print(f"device: {te.cuda(0).name} (torch {torch.__version__}); fp32, TF32 off; median of {a.repeat} after "
              f"{a.warmup} warm-up")
    if a.tensor_cores:
        print(f"te schedule: matmul_fp16 template, default config (tensor cores), stages={a.stages}")
    else:
        print(f"te schedule: cuda_schedules.matmul(dtype='{a.dtype}'), vthreads={a.vthreads}, "
              f"double_buffer={a.double_buffer}, stages={a.stages}")
    print(f"{'size':>6} {'te ms':>9} {'cuBLAS ms':>10} {'te TFLOP/s':>11} {'cuBLAS TFLOP/s':>15} {'te/cuBLAS':>10}"
          "  te max|err|" + ("  cuBLAS max|err|" if half else ""))
    for n in a.sizes:
        f = build(n, a.target, a.vthreads, a.dtype, a.double_buffer, a.tensor_cores, a.stages)
        A = torch.randn(n, n, device="cuda").to(dtype)
        B = torch.randn(n, n, device="cuda").to(dtype)
        C = torch.full((n, n), float("nan"), device="cuda", dtype=dtype)
        ta, tb, tc = (te.nd.from_dlpack(x) for x in (A, B, C))  # zero copy
        f(ta, tb, tc)
        ref = torch.matmul(A.float(), B.float())  # the same inputs, float32 math (TF32 off)
        out = torch.matmul(A, B)  # cuBLAS in the benchmark's dtype (fp32: the reference itself)
        # float16: one ulp at the largest output; float32: rounding grows with sqrt(n) terms.
        tol = (2.0 ** -10 if half else 1e-4 * n ** 0.5) * ref.abs().max().item()
        err = (C.float() - ref).abs().max().item()
        err_ref = (out.float() - ref).abs().max().item()
        ok = bool(torch.isfinite(C).all().item()) and err <= tol
        te_ms = median_ms(lambda: f(ta, tb, tc), torch.cuda.synchronize, a.repeat, a.warmup)
        ref_ms = median_ms(lambda: torch.matmul(A, B, out=out), torch.cuda.synchronize, a.repeat, a.warmup)
        flops = 2.0 * n ** 3
        print(f"{n:>6} {te_ms:>9.3f} {ref_ms:>10.3f} {flops / te_ms / 1e9:>11.2f} {flops / ref_ms / 1e9:>15.2f} "
              f"{ref_ms / te_ms:>10.2f}  {err:.2e}" + (f"     {err_ref:.2e}" if half else "")
              + ("" if ok else "  WRONG (tolerance %.2e)" % tol))
        if not ok:
            return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
