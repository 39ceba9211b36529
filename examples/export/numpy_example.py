"""Calls the kernels of a te kernel library from NumPy without te installed, and checks each
against NumPy: every matmul and conv2d kernel the manifest lists (other operators are listed
and skipped). Usage:

    autotune export --log tuning_logs/resnet18_conv_llvm.jsonl --ops conv2d -o /tmp/libconv.so
    python examples/export/numpy_example.py /tmp/libconv.so [KERNEL ...]   # default: every kernel

Exit status 0 when every checked kernel matches (and a wrong call is refused), 1 otherwise.
"""
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import te_kernels  # noqa: E402  (the pure-ctypes loader beside this file)

CHANNEL_BLOCK = 16  # te's CPU conv2d takes weights pre-packed as OIHW16o


def pack_weight(w):
    """KCRS -> [ceil(K/16), C, R, S, 16], zero-filled past K (te::ops::conv2d_pack_weight)."""
    k, c, r, s = w.shape
    blocks = -(-k // CHANNEL_BLOCK)
    padded = np.zeros((blocks * CHANNEL_BLOCK, c, r, s), w.dtype)
    padded[:k] = w
    return np.ascontiguousarray(padded.reshape(blocks, CHANNEL_BLOCK, c, r, s).transpose(0, 2, 3, 4, 1))


def conv2d_reference(x, w, stride, pad):
    xp = np.pad(x.astype(np.float64), ((0, 0), (0, 0), (pad, pad), (pad, pad)))
    r, s = w.shape[2:]
    win = np.lib.stride_tricks.sliding_window_view(xp, (r, s), axis=(2, 3))[:, :, ::stride, ::stride]
    return np.einsum("ncyxrs,kcrs->nkyx", win, w.astype(np.float64))


def check(kernel, rng):
    """Runs one kernel on random inputs; returns the max relative error against NumPy."""
    info = kernel.info
    op, a = info["op"], info["op_args"]
    shapes = [arg["shape"] for arg in info["args"]]
    out = np.full(shapes[-1], np.nan, np.float32)  # NaN: an element the kernel skips is caught
    if op == "matmul":
        x = rng.uniform(-1, 1, shapes[0]).astype(np.float32)
        y = rng.uniform(-1, 1, shapes[1]).astype(np.float32)
        kernel(x, y, out)
        want = x.astype(np.float64) @ y
    elif op == "conv2d":
        x = rng.uniform(-1, 1, (a["n"], a["c"], a["h"], a["w"])).astype(np.float32)
        w = rng.uniform(-1, 1, (a["k"], a["c"], a["r"], a["s"])).astype(np.float32)
        packed = pack_weight(w)
        assert list(packed.shape) == shapes[1], (packed.shape, shapes[1])
        kernel(x, packed, out)
        want = conv2d_reference(x, w, a["stride"], a["pad"])
    else:
        return None
    return float(np.max(np.abs(out - want)) / max(1.0, float(np.max(np.abs(want)))))


def main(path, names):
    lib = te_kernels.load(path)
    rng = np.random.default_rng(0)
    ok = True
    for name in names or list(lib.kernels):
        kernel = lib[name]
        err = check(kernel, rng)
        if err is None:
            print(f"{name}: skipped (operator {kernel.info['op']} has no NumPy reference here)")
            continue
        good = err < 1e-4  # NaN compares False
        ok = ok and good
        print(f"{name}: max relative error {err:.2e} {'ok' if good else 'WRONG'}  (tuned on {kernel.info['tuned_on']})")
    # A wrong call is an error with a message, not a crash.
    first = next(iter(lib.kernels.values()))
    try:
        first(np.zeros((2, 2), np.float32))
        print("a call with one argument was accepted: WRONG")
        ok = False
    except te_kernels.KernelError as e:
        print(f"refused as expected: {e}")
    return 0 if ok else 1


if __name__ == "__main__":
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    sys.exit(main(sys.argv[1], sys.argv[2:]))
