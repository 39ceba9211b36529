"""Operators end to end against NumPy: matmul with a scheduled ladder, conv2d NCHW with
padding, softmax, argmax through te.comm_reducer, and symbolic shapes at several sizes."""
import numpy as np
import pytest

import te
from conftest import nan_like


def matmul(n, m, k):
    A = te.placeholder((n, k), name="A")
    B = te.placeholder((k, m), name="B")
    r = te.reduce_axis((0, k), name="k")
    C = te.compute((n, m), lambda i, j: te.sum(A[i, r] * B[r, j], axis=r), name="C")
    return A, B, C


def matmul_ladder():
    """Schedules from naive to tiled + vectorized + parallel (the notebook's ladder)."""
    def naive(s, C):
        pass

    def tiled(s, C):
        i, j = C.op.axis
        io, jo, ii, ji = s[C].tile(i, j, 16, 16)
        (k,) = C.op.reduce_axis
        ko, ki = s[C].split(k, factor=4)
        s[C].reorder(io, jo, ko, ki, ii, ji)

    def vectorized(s, C):
        tiled(s, C)
        s[C].vectorize(s[C].leaf_iter_vars[-1])

    def parallel(s, C):
        vectorized(s, C)
        s[C].parallel(s[C].leaf_iter_vars[0])

    def cached(s, C):
        CC = s.cache_write(C, "local")
        i, j = C.op.axis
        io, jo, ii, ji = s[C].tile(i, j, 16, 16)
        s[CC].compute_at(s[C], jo)
        s[C].vectorize(ji)
        s[C].parallel(io)
    return {"naive": naive, "tiled": tiled, "vectorized": vectorized, "parallel": parallel, "cached": cached}


def test_matmul_ladder(rng):
    n, m, k = 48, 40, 36
    a = rng.standard_normal((n, k)).astype("float32")
    b = rng.standard_normal((k, m)).astype("float32")
    for name, schedule in matmul_ladder().items():
        A, B, C = matmul(n, m, k)
        s = te.create_schedule(C.op)
        schedule(s, C)
        f = te.build(s, [A, B, C], name="matmul_" + name)
        c = nan_like((n, m))
        f(a, b, c)
        np.testing.assert_allclose(c, a @ b, rtol=1e-4, atol=1e-4, err_msg=name)


def conv2d_nchw(n, ci, h, w, co, kh, kw, pad):
    data = te.placeholder((n, ci, h, w), name="data")
    weight = te.placeholder((co, ci, kh, kw), name="weight")
    padded = te.compute(
        (n, ci, h + 2 * pad, w + 2 * pad),
        lambda b, c, y, x: te.if_then_else(
            te.all(y >= pad, y < h + pad, x >= pad, x < w + pad), data[b, c, y - pad, x - pad], 0.0),
        name="padded")
    rc = te.reduce_axis((0, ci), name="rc")
    ry = te.reduce_axis((0, kh), name="ry")
    rx = te.reduce_axis((0, kw), name="rx")
    oh, ow = h + 2 * pad - kh + 1, w + 2 * pad - kw + 1
    out = te.compute((n, co, oh, ow),
                     lambda b, k, y, x: te.sum(padded[b, rc, y + ry, x + rx] * weight[k, rc, ry, rx], axis=[rc, ry, rx]),
                     name="conv")
    return data, weight, padded, out


def conv2d_numpy(x, w, pad):
    n, ci, h, wd = x.shape
    co, _, kh, kw = w.shape
    xp = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))
    oh, ow = h + 2 * pad - kh + 1, wd + 2 * pad - kw + 1
    out = np.zeros((n, co, oh, ow), dtype=np.float64)
    for dy in range(kh):
        for dx in range(kw):
            patch = xp[:, :, dy:dy + oh, dx:dx + ow]
            out += np.einsum("bchw,kc->bkhw", patch, w[:, :, dy, dx])
    return out.astype("float32")


def test_conv2d_nchw_with_padding(rng):
    data, weight, padded, out = conv2d_nchw(1, 3, 10, 9, 4, 3, 3, 1)
    s = te.create_schedule(out.op)
    s[padded].compute_inline()
    b, k, y, x = out.op.axis
    xo, xi = s[out].split(x, factor=4)
    s[out].vectorize(xi)
    f = te.build(s, [data, weight, out], name="conv2d")
    x_np = rng.standard_normal((1, 3, 10, 9)).astype("float32")
    w_np = rng.standard_normal((4, 3, 3, 3)).astype("float32")
    o = nan_like((1, 4, 10, 9))
    f(x_np, w_np, o)
    np.testing.assert_allclose(o, conv2d_numpy(x_np, w_np, 1), rtol=1e-4, atol=1e-4)


def softmax(n, m):
    A = te.placeholder((n, m), name="A")
    k1 = te.reduce_axis((0, m), name="k1")
    k2 = te.reduce_axis((0, m), name="k2")
    row_max = te.compute((n,), lambda i: te.max(A[i, k1], axis=k1), name="row_max")
    exps = te.compute((n, m), lambda i, j: te.exp(A[i, j] - row_max[i]), name="exps")
    total = te.compute((n,), lambda i: te.sum(exps[i, k2], axis=k2), name="total")
    out = te.compute((n, m), lambda i, j: exps[i, j] / total[i], name="softmax")
    return A, row_max, exps, total, out


def test_softmax(rng):
    A, row_max, exps, total, out = softmax(8, 33)
    s = te.create_schedule(out.op)
    jo, ji = s[out].split(out.op.axis[1], factor=8)
    s[out].vectorize(ji)
    f = te.build(s, [A, out], name="softmax")
    a = rng.standard_normal((8, 33)).astype("float32") * 4
    o = nan_like((8, 33))
    f(a, o)
    e = np.exp(a - a.max(axis=1, keepdims=True))
    np.testing.assert_allclose(o, e / e.sum(axis=1, keepdims=True), rtol=1e-5, atol=1e-6)


def test_argmax_comm_reducer(rng):
    def combine(x, y):
        lhs = te.select(x[1] >= y[1], x[0], y[0])
        rhs = te.select(x[1] >= y[1], x[1], y[1])
        return lhs, rhs

    def identity(t0, t1):
        return te.const(-1, t0), te.min_value(t1)

    argmax = te.comm_reducer(combine, identity, name="argmax")
    A = te.placeholder((6, 20), name="A")
    k = te.reduce_axis((0, 20), name="k")
    idx, val = te.compute((6,), lambda i: argmax((k.var, A[i, k]), axis=k), name="argmax")
    f = te.build(te.create_schedule(idx.op), [A, idx, val], name="argmax")
    a = rng.standard_normal((6, 20)).astype("float32")
    out_idx = np.full(6, -7, dtype="int32")
    out_val = nan_like(6)
    f(a, out_idx, out_val)
    np.testing.assert_array_equal(out_idx, a.argmax(axis=1))
    np.testing.assert_allclose(out_val, a.max(axis=1))


def test_symbolic_shapes_several_sizes(rng):
    n = te.var("n")
    m = te.var("m")
    A = te.placeholder((n, m), name="A")
    B = te.compute((n, m), lambda i, j: A[i, j] * 2.0 + te.cast("float32", i), name="B")
    s = te.create_schedule(B.op)
    jo, ji = s[B].split(B.op.axis[1], factor=8)
    s[B].vectorize(ji)
    f = te.build(s, [A, B], name="scale")
    for rows, cols in [(1, 1), (3, 7), (5, 16), (17, 33)]:
        a = rng.standard_normal((rows, cols)).astype("float32")
        b = nan_like((rows, cols))
        f(a, b)
        np.testing.assert_allclose(b, a * 2 + np.arange(rows, dtype="float32")[:, None], rtol=1e-6)


def test_vectorized_rfactor_combining_axis_is_a_shuffle_tree(rng):
    # Row max and sum of 37 columns: lanes of 8 rfactor'd, the lanes combined by vectorizing
    # the combining axis (a shuffle tree); any other reduction axis still refuses vectorize.
    A = te.placeholder((6, 37), name="A")
    outs = []
    for name, red in (("S", te.sum), ("M", te.max)):
        k = te.reduce_axis((0, 37), name="k")
        outs.append(te.compute((6,), lambda i, k=k, red=red: red(A[i, k], axis=k), name=name))
    for out, ref in zip(outs, (lambda a: a.sum(axis=1), lambda a: a.max(axis=1))):
        s = te.create_schedule(out.op)
        with pytest.raises(te.TEError, match="rfactor first"):
            s[out].vectorize(s[out].op.reduce_axis[0])
        ko, ki = s[out].split(s[out].op.reduce_axis[0], factor=8)
        rf = s.rfactor(out, ki)
        s[rf].reorder(s[rf].op.axis[1], s[rf].op.reduce_axis[0], s[rf].op.axis[0])
        s[rf].vectorize(s[rf].op.axis[0])
        s[out].vectorize(s[out].op.reduce_axis[0])
        assert "reduce_" in str(te.lower(s, [A, out], name="f"))
        f = te.build(s, [A, out], name="lanes_" + out.op.name)
        a = rng.standard_normal((6, 37)).astype("float32")
        c = nan_like(6)
        f(a, c)
        np.testing.assert_allclose(c, ref(a), rtol=1e-5, atol=1e-5)


def test_rfactor_and_cache_read(rng):
    A = te.placeholder((8, 64), name="A")
    k = te.reduce_axis((0, 64), name="k")
    C = te.compute((8,), lambda i: te.sum(A[i, k], axis=k), name="C")
    s = te.create_schedule(C.op)
    ko, ki = s[C].split(k, factor=16)
    CF = s.rfactor(C, ki)
    assert CF.op.name == "C.rf" and int(CF.shape[0]) == 16
    s.cache_read(A, "local", [CF])
    f = te.build(s, [A, C], name="row_sum_rf")
    a = rng.standard_normal((8, 64)).astype("float32")
    c = nan_like(8)
    f(a, c)
    np.testing.assert_allclose(c, a.sum(axis=1), rtol=1e-4, atol=1e-5)
