"""te's hand-scheduled NCHW fp32 conv2d (bench/cuda_schedules.py) next to cuDNN
(torch.nn.functional.conv2d, TF32 off), in one run on one GPU, correctness checked in the same
run (outputs pre-filled with NaN).

  python bench/conv2d_cuda.py [--repeat 20] [--warmup 5]
  python bench/conv2d_cuda.py --dry-run   # no GPU: build + NVRTC-compile the kernels only

Shapes are ResNet-style 3x3, stride 1, pad 1 layers (batch, channels, size, out channels)."""
import argparse
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import cuda_schedules  # noqa: E402
import te  # noqa: E402
from matmul_cuda import median_ms, torch_for_timing  # noqa: E402

SHAPES = [(8, 64, 56, 64), (8, 128, 28, 128), (8, 256, 14, 256)]
TILE = {56: 8, 28: 14, 14: 14}  # a tile x tile patch of output pixels per block (one thread each)


def build(shape, target):
    s, args = cuda_schedules.conv2d(*shape, tile=TILE[shape[2]])
    f = te.build(s, args, target, name="conv2d_%d_%d_%d_%d" % shape)
    f.get_source("ptx")
    return f


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--repeat", type=int, default=20)
    p.add_argument("--warmup", type=int, default=5)
    p.add_argument("--target", default="cuda")
    p.add_argument("--dry-run", action="store_true", help="build and compile only (no GPU needed)")
    a = p.parse_args()
    for shape in SHAPES:
        f = build(shape, a.target)
        if a.dry_run:
            print(f"conv2d {shape}: built for '{a.target}', PTX {len(f.get_source('ptx'))} bytes (dry run)")
    if a.dry_run:
        return 0
    torch = torch_for_timing()
    if torch is None:
        return 2
    import torch.nn.functional as F
    print(f"device: {te.cuda(0).name} (torch {torch.__version__}); fp32, TF32 off; median of {a.repeat} after {a.warmup} warm-up")
    print(f"{'shape (N,C,HW,K)':>20} {'te ms':>9} {'cuDNN ms':>9} {'te TFLOP/s':>11} {'te/cuDNN':>9}  max|err|")
    for shape in SHAPES:
        n, c, size, k = shape
        f = build(shape, a.target)
        x = torch.randn(n, c, size, size, device="cuda")
        w = torch.randn(k, c, 3, 3, device="cuda")
        out = torch.full((n, k, size, size), float("nan"), device="cuda")
        tx, tw, to = (te.nd.from_dlpack(t) for t in (x, w, out))
        f(tx, tw, to)
        ref = F.conv2d(x, w, padding=1)
        err = (out - ref).abs().max().item()
        tol = 1e-4 * ref.abs().max().item() * 10
        ok = bool(torch.isfinite(out).all().item()) and err <= tol
        te_ms = median_ms(lambda: f(tx, tw, to), torch.cuda.synchronize, a.repeat, a.warmup)
        ref_ms = median_ms(lambda: F.conv2d(x, w, padding=1), torch.cuda.synchronize, a.repeat, a.warmup)
        flops = 2.0 * n * k * size * size * c * 9
        print(f"{str(shape):>20} {te_ms:>9.3f} {ref_ms:>9.3f} {flops / te_ms / 1e9:>11.2f} {ref_ms / te_ms:>9.2f}  "
              f"{err:.2e}{'' if ok else '  WRONG (tolerance %.2e)' % tol}")
        if not ok:
            return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
