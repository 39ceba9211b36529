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


def test_builtin_conv2d_nchwc_end_to_end_with_te_transforms(rng):
    # n, c, h, w, k, r, s, stride, pad, ic_block, oc_block
    shape = (1, 6, 9, 8, 16, 3, 3, 2, 1, 3, 8)
    n, c, h, w, k, r, s_, stride, pad, cb, kb = shape
    x = rng.standard_normal((n, c, h, w)).astype("float32")
    wt = rng.standard_normal((k, c, r, s_)).astype("float32")
    X = te.placeholder((n, c, h, w), name="x")
    W = te.placeholder((k, c, r, s_), name="w")
    xp = _build_and_run(te.ops.nchw_to_nchwc(X, cb), [X], [x])
    np.testing.assert_array_equal(xp, x.reshape(n, c // cb, cb, h, w).transpose(0, 1, 3, 4, 2))
    wp = _build_and_run(te.ops.conv2d_nchwc_pack_weight(W, cb, kb), [W], [wt])
    task = at.create_task("conv2d_nchwc", shape, target="llvm")
    sch, args = task.instantiate(0)
    f = te.build(sch, args, target="llvm")
    oh, ow = (h + 2 * pad - r) // stride + 1, (w + 2 * pad - s_) // stride + 1
    out = np.full((n, k // kb, oh, ow, kb), np.nan, "float32")
    f(xp, wp, out)
    Y = te.placeholder(out.shape, name="y")
    back = _build_and_run(te.ops.nchwc_to_nchw(Y), [Y], [out])
    np.testing.assert_allclose(back, conv2d_numpy(x, wt, stride, pad), rtol=1e-4, atol=1e-4)
    with pytest.raises(te.TEError, match="does not divide"):
        te.ops.nchw_to_nchwc(X, 4)
    with pytest.raises(te.TEError, match="ic_block 4 does not divide"):
        at.create_task("conv2d_nchwc", (1, 6, 9, 8, 16, 3, 3, 2, 1, 4, 8), target="llvm")


def _build_and_run(out_tensor, inputs, arrays):
    f = te.build(te.create_schedule(out_tensor.op), inputs + [out_tensor])
    out = np.full(tuple(int(d) for d in out_tensor.shape), np.nan, "float32")
    f(*arrays, out)
    return out


def test_ops_listed_with_workload_set():
    names = {op["name"] for op in te.ops.list_ops()}
    new = {"dense_bias", "dense_bias_gelu", "conv2d_bias_relu", "max_pool2d", "avg_pool2d", "depthwise_conv2d",
           "max_pool2d_nchwc", "avg_pool2d_nchwc", "depthwise_conv2d_nchwc",
           "conv2d_nhwc", "conv2d_grouped", "conv2d_transpose", "conv3d", "conv2d_nchwc"}
    assert new <= names
    covered = {w["op"] for w in te.ops.workload_sets()["ansor-ops"]}
    # Every operator with a CPU schedule; matmul_fp16 (float16 GEMM, cuda only) is matmul's
    # dtype variant, tuned with `autotune --op matmul --dtype float16`.
    assert "matmul_fp16" in names
    assert covered == {op["name"] for op in te.ops.list_ops() if "llvm" in op["targets"]}


@pytest.mark.parametrize("activation", ["none", "relu", "gelu"])
def test_dense_compute(rng, activation):
    from math import erf, sqrt
    a, b = rng.standard_normal((9, 6)).astype("float32"), rng.standard_normal((6, 5)).astype("float32")
    bias = rng.standard_normal(5).astype("float32")
    A, B, Bias = te.placeholder(a.shape, name="A"), te.placeholder(b.shape, name="B"), te.placeholder((5,), name="bias")
    out = _build_and_run(te.ops.dense(A, B, Bias, activation), [A, B, Bias], [a, b, bias])
    y = a.astype("float64") @ b + bias
    if activation == "relu":
        y = np.maximum(y, 0)
    if activation == "gelu":
        y = 0.5 * y * (1 + np.vectorize(erf)(y / sqrt(2)))
    np.testing.assert_allclose(out, y, rtol=1e-5, atol=1e-5)
    with pytest.raises(te.TEError, match="unknown activation 'tanh'"):
        te.ops.dense(A, B, Bias, "tanh")


def test_builtin_conv2d_bias_relu_cpu_kernel(rng):
    shape = (1, 5, 9, 8, 20, 3, 3, 2, 1)  # n, c, h, w, k, r, s, stride, pad
    task = at.create_task("conv2d_bias_relu", shape, target="llvm")
    s, args = task.instantiate(0)
    f = te.build(s, args, target="llvm")
    x = rng.standard_normal(shape[:4]).astype("float32")
    w = rng.standard_normal((shape[4], shape[1], shape[5], shape[6])).astype("float32")
    bias = rng.standard_normal(shape[4]).astype("float32")
    expected = np.maximum(conv2d_numpy(x, w, shape[7], shape[8]) + bias[None, :, None, None], 0)
    out = np.full(expected.shape, np.nan, "float32")
    f(x, te.ops.pack_conv2d_weight(w), bias, out)
    np.testing.assert_allclose(out, expected, rtol=1e-4, atol=1e-4)


def test_pooling_and_depthwise_computes(rng):
    x = rng.standard_normal((1, 3, 7, 8)).astype("float32")
    X = te.placeholder(x.shape, name="x")
    xp = np.pad(x, ((0, 0), (0, 0), (1, 1), (1, 1)), constant_values=-np.inf)
    windows = np.stack([xp[:, :, dy:dy + 8:2, dx:dx + 8:2] for dy in range(3) for dx in range(3)])  # 4 x 4 outputs
    np.testing.assert_allclose(_build_and_run(te.ops.pool2d(X, "max", 3, 2, 1), [X], [x]), windows.max(0), rtol=1e-6)
    zeros = np.where(np.isinf(windows), 0, windows)
    avg = _build_and_run(te.ops.pool2d(X, "avg", 3, 2, 1), [X], [x])
    np.testing.assert_allclose(avg, zeros.sum(0) / 9, rtol=1e-5, atol=1e-6)
    excl = _build_and_run(te.ops.pool2d(X, "avg", 3, 2, 1, count_include_pad=False), [X], [x])
    np.testing.assert_allclose(excl, zeros.sum(0) / (~np.isinf(windows)).sum(0), rtol=1e-5, atol=1e-6)
    with pytest.raises(te.TEError, match="use \"max\" or \"avg\""):
        te.ops.pool2d(X, "sum", 2, 2)

    w = rng.standard_normal((3, 1, 3, 3)).astype("float32")
    W = te.placeholder(w.shape, name="w")
    dw = _build_and_run(te.ops.depthwise_conv2d_nchw(X, W, 1, 1), [X, W], [x, w])
    zp = np.pad(x, ((0, 0), (0, 0), (1, 1), (1, 1)))
    expected = sum(zp[:, :, dy:dy + 7, dx:dx + 8] * w[None, :, 0, dy, dx, None, None]
                   for dy in range(3) for dx in range(3))
    np.testing.assert_allclose(dw, expected, rtol=1e-5, atol=1e-5)


def test_conv_variants_computes(rng):
    x = rng.standard_normal((1, 4, 6, 6)).astype("float32")
    w = rng.standard_normal((6, 4, 3, 3)).astype("float32")
    X, W = te.placeholder(x.shape, name="x"), te.placeholder(w.shape, name="w")
    nchw = _build_and_run(te.ops.conv2d_nchw(X, W, 1, 1), [X, W], [x, w])
    np.testing.assert_allclose(nchw, conv2d_numpy(x, w, 1, 1), rtol=1e-4, atol=1e-4)
    # NHWC of the transposed data and weight is the transposed NCHW result.
    Xh, Wh = te.placeholder((1, 6, 6, 4), name="xh"), te.placeholder((3, 3, 4, 6), name="wh")
    nhwc = _build_and_run(te.ops.conv2d_nhwc(Xh, Wh, 1, 1), [Xh, Wh],
                          [np.ascontiguousarray(x.transpose(0, 2, 3, 1)), np.ascontiguousarray(w.transpose(2, 3, 1, 0))])
    np.testing.assert_allclose(nhwc, nchw.transpose(0, 2, 3, 1), rtol=1e-4, atol=1e-4)
    # Two groups: each half of the filters sees its half of the channels.
    wg = rng.standard_normal((6, 2, 3, 3)).astype("float32")
    Wg = te.placeholder(wg.shape, name="wg")
    grouped = _build_and_run(te.ops.conv2d_nchw_grouped(X, Wg, 1, 1, 1, 2), [X, Wg], [x, wg])
    halves = np.concatenate([conv2d_numpy(x[:, :2], wg[:3], 1, 1), conv2d_numpy(x[:, 2:], wg[3:], 1, 1)], axis=1)
    np.testing.assert_allclose(grouped, halves, rtol=1e-4, atol=1e-4)
    # The transposed convolution scatters each input pixel's weighted kernel (stride 2, pad 1).
    wt = rng.standard_normal((4, 3, 4, 4)).astype("float32")
    Wt = te.placeholder(wt.shape, name="wt")
    tr = _build_and_run(te.ops.conv2d_transpose_nchw(X, Wt, 2, 1), [X, Wt], [x, wt])
    full = np.zeros((1, 3, 5 * 2 + 4, 5 * 2 + 4))
    for iy in range(6):
        for ix in range(6):
            full[:, :, iy * 2:iy * 2 + 4, ix * 2:ix * 2 + 4] += np.einsum("c,ckrs->krs", x[0, :, iy, ix], wt)[None]
    np.testing.assert_allclose(tr, full[:, :, 1:-1, 1:-1], rtol=1e-4, atol=1e-4)
    # conv3d with a depth-1 kernel over a depth-1 input is conv2d.
    X3, W3 = te.placeholder((1, 4, 1, 6, 6), name="x3"), te.placeholder((6, 4, 1, 3, 3), name="w3")
    c3 = _build_and_run(te.ops.conv3d_ncdhw(X3, W3, 1, 1), [X3, W3], [x[:, :, None], w[:, :, None]])
    np.testing.assert_allclose(c3[:, :, 1], nchw, rtol=1e-4, atol=1e-4)


def test_blocked_conv3d_and_dilated_conv2d_kernels_match_numpy(rng):
    """The CPU templates that take conv2d's blocked structure (conv3d; conv2d_grouped with one
    group, dilated): random configs of their spaces against NumPy, outputs NaN-filled first."""
    def conv3d_numpy(x, w, stride, pad):
        xp = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad), (pad, pad)))
        k, _, t, r, s = w.shape
        od, oh, ow = ((xp.shape[i] - w.shape[i]) // stride + 1 for i in (2, 3, 4))
        out = np.zeros((x.shape[0], k, od, oh, ow))
        for dz in range(t):
            for dy in range(r):
                for dx in range(s):
                    patch = xp[:, :, dz:dz + stride * od:stride, dy:dy + stride * oh:stride, dx:dx + stride * ow:stride]
                    out += np.einsum("ncdhw,kc->nkdhw", patch, w[:, :, dz, dy, dx])
        return out

    def dilated_numpy(x, w, stride, pad, dil):
        wd = np.zeros((w.shape[0], w.shape[1], dil * (w.shape[2] - 1) + 1, dil * (w.shape[3] - 1) + 1), w.dtype)
        wd[:, :, ::dil, ::dil] = w  # a dilated kernel is the kernel with zeros between its taps
        return conv2d_numpy(x, wd, stride, pad)

    cases = [("conv3d", (1, 3, 4, 6, 7, 20, 3, 3, 2, 1, 1), (1, 3, 4, 6, 7), (20, 3, 3, 3, 2),
              lambda x, w: conv3d_numpy(x, w, 1, 1)),
             ("conv2d_grouped", (1, 5, 11, 9, 18, 3, 3, 2, 2, 2, 1), (1, 5, 11, 9), (18, 5, 3, 3),
              lambda x, w: dilated_numpy(x, w, 2, 2, 2))]
    for op, args, xshape, wshape, reference in cases:
        task = at.create_task(op, args, target="llvm")
        x = rng.standard_normal(xshape).astype("float32")
        w = rng.standard_normal(wshape).astype("float32")
        expected = reference(x.astype("float64"), w.astype("float64"))
        for index in rng.choice(task.space_size, 3, replace=False):
            s, tensors = task.instantiate(int(index))
            out = np.full(expected.shape, np.nan, "float32")
            te.build(s, tensors, target="llvm")(x, w, out)
            np.testing.assert_allclose(out, expected, rtol=1e-4, atol=1e-4, err_msg=f"{op} config {index}")


@pytest.mark.parametrize("trans_a,trans_b", [(False, True), (True, False), (True, True)])
def test_matmul_transposed_layouts_tuned_kernels_match_numpy(rng, trans_a, trans_b):
    # The compute, and random configs of the "matmul" template with the layout flags (the
    # 5-argument workload), against NumPy with NaN-prefilled outputs.
    m, n, k = 21, 40, 13
    a = rng.standard_normal((k, m) if trans_a else (m, k)).astype("float32")
    b = rng.standard_normal((n, k) if trans_b else (k, n)).astype("float32")
    expected = (a.T if trans_a else a).astype("float64") @ (b.T if trans_b else b)
    A, B = te.placeholder(a.shape, name="A"), te.placeholder(b.shape, name="B")
    np.testing.assert_allclose(_build_and_run(te.ops.matmul(A, B, trans_a=trans_a, trans_b=trans_b), [A, B], [a, b]),
                               expected, rtol=1e-5, atol=1e-5)
    task = at.create_task("matmul", (m, n, k, int(trans_a), int(trans_b)), target="llvm")
    assert task.workload_key == f"matmul({m},{n},{k},{int(trans_a)},{int(trans_b)})"
    for index in rng.choice(task.space_size, size=4, replace=False):
        s, args = task.instantiate(int(index))
        c = np.full((m, n), np.nan, "float32")
        te.build(s, args, target="llvm")(a, b, c)
        np.testing.assert_allclose(c, expected, rtol=1e-4, atol=1e-4, err_msg=f"config {index}")
    # NN keeps the 3-argument key of the committed logs.
    assert at.create_task("matmul", (m, n, k), target="llvm").workload_key == f"matmul({m},{n},{k})"


def test_linear_weight_layout_matches_numpy(rng):
    a, w = rng.standard_normal((9, 6)).astype("float32"), rng.standard_normal((5, 6)).astype("float32")
    bias = rng.standard_normal(5).astype("float32")
    A, W, Bias = te.placeholder(a.shape, name="A"), te.placeholder(w.shape, name="W"), te.placeholder((5,), name="bias")
    out = _build_and_run(te.ops.linear(A, W, Bias, "relu"), [A, W, Bias], [a, w, bias])
    np.testing.assert_allclose(out, np.maximum(a.astype("float64") @ w.T + bias, 0), rtol=1e-5, atol=1e-5)
    # The dense_bias template with trans_b=1 (a PyTorch Linear weight), random configs.
    task = at.create_task("dense_bias", (9, 5, 6, 1), target="llvm")
    for index in rng.choice(task.space_size, size=3, replace=False):
        s, args = task.instantiate(int(index))
        y = np.full((9, 5), np.nan, "float32")
        te.build(s, args, target="llvm")(a, w, bias, y)
        np.testing.assert_allclose(y, a.astype("float64") @ w.T + bias, rtol=1e-4, atol=1e-4, err_msg=f"config {index}")
    with pytest.raises(te.TEError, match="W2 has 7 columns"):
        te.ops.linear(A, te.placeholder((6, 7), name="W2"), Bias)


def _to_nchwc(x, block):
    n, c, h, w = x.shape
    return np.ascontiguousarray(x.reshape(n, c // block, block, h, w).transpose(0, 1, 3, 4, 2))


def _from_nchwc(x):
    n, cb, h, w, b = x.shape
    return np.ascontiguousarray(x.transpose(0, 1, 4, 2, 3).reshape(n, cb * b, h, w))


def test_nchwc_transforms_and_computes(rng):
    x = rng.standard_normal((2, 8, 7, 6)).astype("float32")
    X = te.placeholder(x.shape, name="x")
    blocked = te.ops.nchw_to_nchwc(X, 4)
    xb = _build_and_run(blocked, [X], [x])
    np.testing.assert_array_equal(xb, _to_nchwc(x, 4))
    XB = te.placeholder(xb.shape, name="xb")
    np.testing.assert_array_equal(_build_and_run(te.ops.nchwc_to_nchw(XB), [XB], [xb]), x)
    # pooling and depthwise in NCHW4c against the NCHW computes' NumPy-checked numbers
    got = _build_and_run(te.ops.pool2d_nchwc(XB, "max", 3, 2, 1), [XB], [xb])
    want = _build_and_run(te.ops.pool2d(X, "max", 3, 2, 1), [X], [x])
    np.testing.assert_allclose(_from_nchwc(got), want, rtol=1e-6)
    got = _build_and_run(te.ops.pool2d_nchwc(XB, "avg", 3, 1, 1, count_include_pad=False), [XB], [xb])
    want = _build_and_run(te.ops.pool2d(X, "avg", 3, 1, 1, count_include_pad=False), [X], [x])
    np.testing.assert_allclose(_from_nchwc(got), want, rtol=1e-5, atol=1e-6)
    w = rng.standard_normal((8, 1, 3, 3)).astype("float32")
    W = te.placeholder(w.shape, name="w")
    wp = _build_and_run(te.ops.depthwise_pack_weight(W, 4), [W], [w])
    np.testing.assert_array_equal(wp, w[:, 0].reshape(2, 4, 3, 3).transpose(0, 2, 3, 1))
    WP = te.placeholder(wp.shape, name="wp")
    got = _build_and_run(te.ops.depthwise_conv2d_nchwc(XB, WP, 2, 1), [XB, WP], [xb, wp])
    want = _build_and_run(te.ops.depthwise_conv2d_nchw(X, W, 2, 1), [X, W], [x, w])
    np.testing.assert_allclose(_from_nchwc(got), want, rtol=1e-5, atol=1e-5)
    with pytest.raises(te.TEError, match="block 16 does not divide the 8 channels of x"):
        te.ops.nchw_to_nchwc(X, 16)


def test_builtin_nchwc_cpu_kernels_match_numpy(rng):
    """The tuned-kernel path: the NCHWc templates' default CPU kernels (and the transform schedule)."""
    n, c, h, w = 1, 32, 9, 10
    x = rng.standard_normal((n, c, h, w)).astype("float32")
    X = te.placeholder(x.shape, name="x")
    to = te.ops.nchw_to_nchwc(X, te.ops.NCHWC_BLOCK)
    xb = np.full(tuple(int(d) for d in to.shape), np.nan, "float32")
    te.build(te.ops.schedule_layout_transform(to), [X, to])(x, xb)
    np.testing.assert_array_equal(xb, _to_nchwc(x, 16))
    wt = rng.standard_normal((c, 1, 3, 3)).astype("float32")
    task = at.create_task("depthwise_conv2d_nchwc", (n, c, h, w, 3, 3, 1, 1, 1), target="llvm")
    s, args = task.instantiate(0)
    out = np.full(tuple(int(d) for d in args[-1].shape), np.nan, "float32")
    te.build(s, args)(xb, np.ascontiguousarray(wt[:, 0].reshape(2, 16, 3, 3).transpose(0, 2, 3, 1)), out)
    zp = np.pad(x, ((0, 0), (0, 0), (1, 1), (1, 1)))
    expected = sum(zp[:, :, dy:dy + h, dx:dx + w] * wt[None, :, 0, dy, dx, None, None]
                   for dy in range(3) for dx in range(3))
    np.testing.assert_allclose(_from_nchwc(out), expected, rtol=1e-4, atol=1e-4)
    task = at.create_task("max_pool2d_nchwc", (n, c, h, w, 3, 2, 1), target="llvm")
    s, args = task.instantiate(0)
    out = np.full(tuple(int(d) for d in args[-1].shape), np.nan, "float32")
    te.build(s, args)(xb, out)
    xp = np.pad(x, ((0, 0), (0, 0), (1, 1), (1, 1)), constant_values=-np.inf)
    expected = np.stack([xp[:, :, dy:dy + 2 * out.shape[2]:2, dx:dx + 2 * out.shape[3]:2]
                         for dy in range(3) for dx in range(3)]).max(0)
    np.testing.assert_allclose(_from_nchwc(out), expected, rtol=1e-6)
    with pytest.raises(te.TEError, match="c = 24 is not a multiple of the channel block 16"):
        at.create_task("avg_pool2d_nchwc", (1, 24, 8, 8, 3, 2, 1), target="llvm")
