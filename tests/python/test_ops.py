"""te.ops from Python: the library's computes, the CPU conv2d weight layout (NumPy and te
compute agree), and the built-in conv2d template's CPU kernel called on pre-packed weights
against NumPy."""
import numpy as np
import pytest

import te
import te.autotune as at
import te.ops


def conv2d_numpy(x, w, stride, pad):
    n, c, h, wd = x.shape
    k, _, r, s = w.shape
    xp = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))
    oh, ow = (h + 2 * pad - r) // stride + 1, (wd + 2 * pad - s) // stride + 1
    out = np.zeros((n, k, oh, ow), dtype=np.float64)
    for dy in range(r):
        for dx in range(s):
            patch = xp[:, :, dy:dy + stride * oh:stride, dx:dx + stride * ow:stride]
            out += np.einsum("nchw,kc->nkhw", patch, w[:, :, dy, dx])
    return out


def test_lists():
    names = [op["name"] for op in te.ops.list_ops()]
    assert "matmul" in names and "conv2d" in names
    conv = next(op for op in te.ops.list_ops() if op["name"] == "conv2d")
    assert conv["arg_names"][:4] == ["n", "c", "h", "w"] and "llvm" in conv["targets"]
    assert "OIHW16o" in conv["description"]
    sets = te.ops.workload_sets()
    assert [w["label"] for w in sets["resnet18-conv"]] == [f"C{i}" for i in range(1, 13)]


def test_matmul_compute(rng):
    A = te.placeholder((13, 7), name="A")
    B = te.placeholder((7, 5), name="B")
    C = te.ops.matmul(A, B)
    f = te.build(te.create_schedule(C.op), [A, B, C])
    a, b = rng.standard_normal((13, 7)).astype("float32"), rng.standard_normal((7, 5)).astype("float32")
    c = np.full((13, 5), np.nan, "float32")
    f(a, b, c)
    np.testing.assert_allclose(c, a @ b, rtol=1e-5, atol=1e-5)
    with pytest.raises(te.TEError, match="reduction sizes differ"):
        te.ops.matmul(A, te.placeholder((6, 5), name="B2"))


@pytest.mark.parametrize("trans_a,trans_b", [(False, False), (False, True), (True, False)])
def test_batch_matmul_compute(rng, trans_a, trans_b):
    a = rng.standard_normal((3, 7, 5) if trans_a else (3, 5, 7)).astype("float32")
    b = rng.standard_normal((3, 4, 7) if trans_b else (3, 7, 4)).astype("float32")
    A, B = te.placeholder(a.shape, name="A"), te.placeholder(b.shape, name="B")
    C = te.ops.batch_matmul(A, B, trans_a, trans_b)
    f = te.build(te.create_schedule(C.op), [A, B, C])
    c = np.full((3, 5, 4), np.nan, "float32")
    f(a, b, c)
    expected = (a.transpose(0, 2, 1) if trans_a else a) @ (b.transpose(0, 2, 1) if trans_b else b)
    np.testing.assert_allclose(c, expected, rtol=1e-5, atol=1e-5)


def test_softmax_and_layer_norm_computes(rng):
    x = (rng.standard_normal((6, 37)) * 3 + 50).astype("float32")  # large offsets: stability
    X = te.placeholder(x.shape, name="X")
    S = te.ops.softmax(X)
    f = te.build(te.create_schedule(S.op), [X, S])
    out = np.full(x.shape, np.nan, "float32")
    f(x, out)
    e = np.exp(x - x.max(axis=1, keepdims=True))
    np.testing.assert_allclose(out, e / e.sum(axis=1, keepdims=True), rtol=1e-5, atol=1e-6)

    g, b = rng.standard_normal(37).astype("float32"), rng.standard_normal(37).astype("float32")
    G, B = te.placeholder((37,), name="gamma"), te.placeholder((37,), name="beta")
    L = te.ops.layer_norm(X, G, B)
    f = te.build(te.create_schedule(L.op), [X, G, B, L])
    f(x, g, b, out)
    mean, var = x.mean(axis=1, keepdims=True), x.var(axis=1, keepdims=True)
    np.testing.assert_allclose(out, (x - mean) / np.sqrt(var + 1e-5) * g + b, rtol=1e-3, atol=1e-3)
    with pytest.raises(te.TEError, match="2-D"):
        te.ops.softmax(te.placeholder((4,), name="v"))


@pytest.mark.parametrize("k", [16, 20])
def test_pack_weight_numpy_and_compute_agree(rng, k):
    w = rng.standard_normal((k, 3, 2, 3)).astype("float32")
    packed = te.ops.pack_conv2d_weight(w)
    assert packed.shape == (-(-k // 16), 3, 2, 3, te.ops.CONV2D_CHANNEL_BLOCK)
    assert packed[0, 1, 1, 2, 5] == w[5, 1, 1, 2]
    assert k % 16 == 0 or packed[-1, 0, 0, 0, 15] == 0
    W = te.placeholder(w.shape, name="W")
    P = te.ops.conv2d_pack_weight(W)
    f = te.build(te.create_schedule(P.op), [W, P])
    out = np.full(packed.shape, np.nan, "float32")
    f(w, out)
    np.testing.assert_array_equal(out, packed)
    with pytest.raises(te.TEError, match="4-D"):
        te.ops.pack_conv2d_weight(w[0])


def test_builtin_conv2d_cpu_kernel_takes_packed_weights(rng):
    shape = (1, 5, 9, 8, 20, 3, 3, 2, 1)  # n, c, h, w, k, r, s, stride, pad
    task = at.create_task("conv2d", shape, target="llvm")
    s, args = task.instantiate(0)
    f = te.build(s, args, target="llvm")
    x = rng.standard_normal(shape[:4]).astype("float32")
    w = rng.standard_normal((shape[4], shape[1], shape[5], shape[6])).astype("float32")
    expected = conv2d_numpy(x, w, shape[7], shape[8])
    out = np.full(expected.shape, np.nan, "float32")
    f(x, te.ops.pack_conv2d_weight(w), out)
    np.testing.assert_allclose(out, expected, rtol=1e-4, atol=1e-4)
