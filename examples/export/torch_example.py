"""Calls a te kernel library on PyTorch tensors through DLPack (no te import, no copies), and
registers one kernel as a torch.library custom op so it composes with torch (torch.compile
sees it through its fake implementation). Usage:

    autotune export --log tuning_logs/bert_gemm_llvm.jsonl --ops matmul -o /tmp/libgemm.so
    python examples/export/torch_example.py /tmp/libgemm.so

Uses the first matmul or conv2d kernel of the library; exit status 0 when the results match
torch's own operators.
"""
import os
import sys

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import te_kernels  # noqa: E402  (the pure-ctypes loader beside this file)


def pack_weight(w):
    """KCRS -> OIHW16o ([ceil(K/16), C, R, S, 16]), the layout te's CPU conv2d kernels take."""
    k, c, r, s = w.shape
    blocks = -(-k // 16)
    padded = torch.zeros((blocks * 16, c, r, s), dtype=w.dtype)
    padded[:k] = w
    return padded.reshape(blocks, 16, c, r, s).permute(0, 2, 3, 4, 1).contiguous()


def main(path):
    lib = te_kernels.load(path)
    kernel = next((k for k in lib.kernels.values() if k.info["op"] in ("matmul", "conv2d")), None)
    if kernel is None:
        sys.exit(f"{path} has no matmul or conv2d kernel")
    info, a = kernel.info, kernel.info["op_args"]
    out_shape = info["args"][-1]["shape"]
    torch.manual_seed(0)

    # 1. Direct call on torch tensors: each goes through tensor.__dlpack__(), zero copy.
    if info["op"] == "matmul":
        x, y = torch.rand(info["args"][0]["shape"]) * 2 - 1, torch.rand(info["args"][1]["shape"]) * 2 - 1
        want = x.double() @ y.double()
        inputs = (x, y)
    else:
        x = torch.rand(a["n"], a["c"], a["h"], a["w"]) * 2 - 1
        w = torch.rand(a["k"], a["c"], a["r"], a["s"]) * 2 - 1
        want = torch.nn.functional.conv2d(x.double(), w.double(), stride=a["stride"], padding=a["pad"])
        inputs = (x, pack_weight(w))
    out = torch.full(out_shape, float("nan"))
    kernel(*inputs, out)
    err = ((out.double() - want).abs().max() / want.abs().max().clamp(min=1)).item()
    print(f"{kernel.name} on torch tensors: max relative error {err:.2e}")

    # 2. The same kernel as a custom operator: torch.ops.te_kernels.<name>(...).
    op_name = f"te_kernels::{kernel.name}"

    @torch.library.custom_op(op_name, mutates_args=())
    def te_op(p: torch.Tensor, q: torch.Tensor) -> torch.Tensor:
        result = torch.empty(out_shape, dtype=torch.float32)
        kernel(p.contiguous(), q.contiguous(), result)
        return result

    @te_op.register_fake
    def _(p, q):
        return p.new_empty(out_shape)

    got = getattr(torch.ops.te_kernels, kernel.name)(*inputs)
    op_err = ((got.double() - want).abs().max() / want.abs().max().clamp(min=1)).item()
    print(f"torch.ops.te_kernels.{kernel.name}: max relative error {op_err:.2e}")

    # 3. A wrong call raises with the library's message instead of crashing.
    try:
        kernel(inputs[0][..., :1].contiguous(), inputs[1], out)
        refused = False
    except te_kernels.KernelError as e:
        print(f"refused as expected: {e}")
        refused = True
    return 0 if err < 1e-4 and op_err < 1e-4 and refused else 1


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    sys.exit(main(sys.argv[1]))
