"""bench/onednn_sgemm.py — oneDNN's dnnl_sgemm through ctypes, the "oneDNN" row of the GEMM
scripts here (gemm_configs.py, gemm_prepacked.py, gemm_k_outer.py), so they time the very same
call, and `checked_te_run`, their check of a te kernel against it. Needs
libdnnl.so.2 (Debian libdnnl-dev).
"""
import ctypes

import numpy as np


def _ptr(x):
    return x.ctypes.data_as(ctypes.c_void_p)


def aligned(x):
    """A 64-byte-aligned C-contiguous copy of x. NumPy aligns its buffers to 16 bytes only, and
    oneDNN's sgemm on a misaligned A, B, C runs ~12% slower here (128x768x768: 0.78 ms aligned,
    0.88 ms at 4 bytes past a line), while te's arrays are always 64-byte aligned: unaligned
    NumPy inputs made the oneDNN row look slower than a C++ caller sees it."""
    x = np.ascontiguousarray(x)
    buffer = np.empty(x.nbytes + 64, np.uint8)
    start = -buffer.ctypes.data % 64
    out = buffer[start:start + x.nbytes].view(x.dtype).reshape(x.shape)
    out[...] = x
    return out


def load():
    """libdnnl.so.2 with dnnl_sgemm's argument types set (the C API: transa, transb, M, N, K,
    alpha, A, lda, B, ldb, beta, C, ldc; row-major)."""
    dnnl = ctypes.CDLL("libdnnl.so.2")
    dnnl.dnnl_sgemm.argtypes = ([ctypes.c_char, ctypes.c_char] + [ctypes.c_int64] * 3 +
                                [ctypes.c_float, ctypes.c_void_p, ctypes.c_int64, ctypes.c_void_p, ctypes.c_int64,
                                 ctypes.c_float, ctypes.c_void_p, ctypes.c_int64])
    return dnnl


def sgemm(a, b, c):
    """A no-argument callable that writes a @ b into c with dnnl_sgemm ("N", "N", alpha 1, beta 0).
    a [m, k], b [k, n] and c [m, n] are C-contiguous, 64-byte-aligned float32 NumPy arrays, kept alive by the
    callable; the pointers are taken on each call, as the scripts always timed it."""
    for x in (a, b, c):
        if x.dtype != np.float32 or not x.flags.c_contiguous:
            raise ValueError("dnnl_sgemm needs C-contiguous float32 arrays")
        if x.ctypes.data % 64:
            raise ValueError("time dnnl_sgemm on 64-byte-aligned arrays (onednn_sgemm.aligned), as te's are")
    (m, k), n = a.shape, b.shape[1]
    if b.shape[0] != k or c.shape != (m, n):
        raise ValueError(f"shapes {a.shape} x {b.shape} -> {c.shape} do not make a GEMM")
    dnnl = load()

    def run():
        dnnl.dnnl_sgemm(b"N", b"N", m, n, k, 1.0, _ptr(a), k, _ptr(b), n, 0.0, _ptr(c), n)

    return run


def checked_te_run(name, mod, inputs, ref):
    """The no-argument callable that runs te module mod on inputs (te arrays) into a float32
    output of ref's shape, after one call into a NaN-filled output is checked against ref
    (oneDNN's result): exits naming `name` when the largest error exceeds 1e-4 of ref's largest
    magnitude."""
    import sys

    import te
    out = te.nd.array(np.full(ref.shape, np.nan, "float32"))
    mod(*inputs, out)
    err = np.abs(out.numpy() - ref).max() / np.abs(ref).max()
    if not err < 1e-4:
        sys.exit(f"{name}: wrong result (max relative error {err})")
    return lambda: mod(*inputs, out)
