"""Limits that fail cleanly, through Python (issue 8, point 4): each is a te.TEError naming the
limit, never a crash, an OOM kill or a hang. The C++ side is tests/cpp/test_limits.cc."""
import numpy as np
import pytest

import te


def test_nested_unroll_beyond_the_node_limit():
    A = te.placeholder((64, 64, 64), name="A")
    C = te.compute((64, 64, 64), lambda i, j, k: A[i, j, k] * 3.0, name="C")
    s = te.create_schedule(C.op)
    for axis in C.op.axis:
        s[C].unroll(axis)
    with pytest.raises(te.TEError, match="262144"):
        te.build(s, [A, C], target="llvm")


def test_unroll_and_vector_widths_beyond_bounds():
    A = te.placeholder((100000,), name="A")
    C = te.compute((100000,), lambda i: A[i] + 1.0, name="C")
    s = te.create_schedule(C.op)
    s[C].unroll(C.op.axis[0])
    with pytest.raises(te.TEError, match="1024"):
        te.build(s, [A, C], target="llvm")
    s = te.create_schedule(C.op)
    s[C].vectorize(C.op.axis[0])
    with pytest.raises(te.TEError, match="64 vector lanes"):
        te.build(s, [A, C], target="llvm")


def test_array_beyond_memory():
    with pytest.raises(te.TEError, match="out of memory"):
        te.nd.empty((1 << 45,), "float32")


def test_kernel_allocation_beyond_memory():
    n = te.var("n")
    A = te.placeholder((n,), name="A")
    T = te.compute((n, n), lambda i, j: A[i] * A[j], name="T")
    k = te.reduce_axis((0, n), name="k")
    C = te.compute((n,), lambda i: te.sum(T[i, k], axis=k), name="C")
    f = te.build(te.create_schedule(C.op), [A, C], target="llvm", name="huge_temp")
    a = np.zeros(1 << 22, np.float32)  # T would be 64 TiB
    c = np.zeros(1 << 22, np.float32)
    with pytest.raises(te.TEError, match="heap allocation"):
        f(a, c)
    # The kernel still works at a sane size.
    a = np.arange(5, dtype=np.float32)
    c = np.full(5, np.nan, np.float32)
    f(a, c)
    np.testing.assert_allclose(c, a * a.sum(), rtol=1e-5)
