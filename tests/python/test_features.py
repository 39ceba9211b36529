"""Features that work in C++ checked from Python, each against NumPy where it computes
something: te.any, te.min/te.prod reductions and where=, more math functions, == and != in a
compute, pragma, prefetch and compute_root, a CUDA build with thread_axis + bind, DLPack edge cases and
torch.from_dlpack."""
import platform

import numpy as np
import pytest

import te
from conftest import nan_like


def build_run(outputs_fn, inputs, out_shape, out_dtype="float32", schedule=None, name="kernel"):
    """Builds te.compute(...) of the placeholders made from `inputs`, runs it, returns the output."""
    placeholders = [te.placeholder(a.shape, dtype=str(a.dtype), name=f"in{k}") for k, a in enumerate(inputs)]
    out = outputs_fn(*placeholders)
    s = te.create_schedule(out.op)
    if schedule:
        schedule(s, out)
    f = te.build(s, placeholders + [out], name=name)
    result = np.full(out_shape, np.nan, dtype=out_dtype) if out_dtype.startswith("float") \
        else np.full(out_shape, 7, dtype=out_dtype)
    f(*inputs, result)
    return result


# ------------------------------------------------------------------------ expressions

def test_any_and_all(rng):
    a = rng.standard_normal((6, 5)).astype("float32")
    got = build_run(lambda A: te.compute((6, 5), lambda i, j: te.if_then_else(
        te.any(A[i, j] > 1.0, A[i, j] < -1.0, i == 0), 1.0, 0.0), name="C"), [a], (6, 5), name="any3")
    expected = ((a > 1) | (a < -1) | (np.arange(6)[:, None] == 0)).astype("float32")
    np.testing.assert_array_equal(got, expected)
    # The list form, and te.all next to it.
    got = build_run(lambda A: te.compute((6, 5), lambda i, j: te.if_then_else(
        te.any([A[i, j] > 0.5, j == 4]), te.if_then_else(te.all(A[i, j] > 0.5, j < 4), 2.0, 1.0), 0.0),
        name="C"), [a], (6, 5), name="any_list")
    hit = (a > 0.5) | (np.arange(5)[None, :] == 4)
    both = (a > 0.5) & (np.arange(5)[None, :] < 4)
    np.testing.assert_array_equal(got, np.where(hit, np.where(both, 2.0, 1.0), 0.0).astype("float32"))


def test_eq_and_ne_inside_compute(rng):
    a = rng.integers(0, 4, size=(8, 8)).astype("int32")
    b = rng.integers(0, 4, size=(8, 8)).astype("int32")

    def fn(A, B):
        return te.compute((8, 8), lambda i, j: te.if_then_else(A[i, j] == B[i, j], 1, 0)
                          + te.if_then_else(A[i, j] != 2, 10, 0)
                          + te.if_then_else(i == j, 100, 0), name="C")
    got = build_run(fn, [a, b], (8, 8), out_dtype="int32", name="eqne")
    expected = (a == b) * 1 + (a != 2) * 10 + np.eye(8, dtype="int32") * 100
    np.testing.assert_array_equal(got, expected)
    # == between two expressions builds an expression, not a Python bool.
    i = te.var("i")
    assert (i == 3).dtype == "bool" and (i != 3).dtype == "bool"


@pytest.mark.parametrize("name", ["log", "erf", "rsqrt", "round"])
def test_more_math_functions(rng, name):
    import math
    x = rng.standard_normal(64).astype("float32") * 3
    if name in ("log", "rsqrt"):
        x = np.abs(x) + 0.05
    if name == "round":  # exact halves: te.round rounds them away from zero (NumPy: to even)
        x[:8] = np.array([0.5, 1.5, 2.5, -0.5, -1.5, -2.5, 3.49, -3.51], dtype="float32")
    te_fn = getattr(te, name)
    reference = {
        "log": np.log,
        "erf": np.vectorize(math.erf),
        "rsqrt": lambda v: 1 / np.sqrt(v),
        "round": lambda v: np.sign(v) * np.floor(np.abs(v) + 0.5),
    }[name]
    got = build_run(lambda A: te.compute((64,), lambda i: te_fn(A[i]), name="C"), [x], (64,), name=name)
    np.testing.assert_allclose(got, reference(x.astype("float64")).astype("float32"), rtol=2e-5, atol=2e-6)


# ------------------------------------------------------------------------ reductions

def row_reduction(reducer, where=None):
    """C[i] = reducer(A[i, k] over k), counting only where(A, i, k) when given."""
    def fn(A):
        k = te.reduce_axis((0, A.shape[1]), name="k")
        return te.compute((A.shape[0],), lambda i: reducer(
            A[i, k], axis=k, where=None if where is None else where(A, i, k)), name="C")
    return fn


def test_min_and_prod_reductions(rng):
    a = rng.standard_normal((12, 9)).astype("float32")
    np.testing.assert_array_equal(build_run(row_reduction(te.min), [a], (12,), name="rmin"), a.min(axis=1))
    p = (rng.random((12, 9)) + 0.5).astype("float32")
    np.testing.assert_allclose(build_run(row_reduction(te.prod), [p], (12,), name="rprod"), p.prod(axis=1), rtol=1e-5)
    # te.min / te.max of two expressions is element-wise.
    got = build_run(lambda A: te.compute((12, 9), lambda i, j: te.min(A[i, j], 0.0), name="C"), [a], (12, 9),
                    name="emin")
    np.testing.assert_array_equal(got, np.minimum(a, 0))


def test_min_reduction_with_schedule(rng):
    a = rng.standard_normal((16, 40)).astype("float32")

    def schedule(s, C):
        ko, ki = s[C].split(C.op.reduce_axis[0], factor=8)
        io, ii = s[C].split(C.op.axis[0], factor=4)
        s[C].reorder(io, ko, ii, ki)
        s[C].parallel(io)
    np.testing.assert_array_equal(build_run(row_reduction(te.min), [a], (16,), schedule=schedule, name="rmin2"),
                                  a.min(axis=1))


@pytest.mark.parametrize("kind", ["sum", "max", "min", "prod"])
def test_reduction_where(rng, kind):
    a = (rng.random((10, 12)) * 2 - 0.5).astype("float32")
    a[:, 0] = 0.25  # every row has at least one counted element
    # Only the first 7 columns, and there only the positive values, count.
    got = build_run(row_reduction(getattr(te, kind), where=lambda A, i, k: te.all(k < 7, A[i, k] > 0.0)),
                    [a], (10,), name=f"where_{kind}")
    keep = (np.arange(12)[None, :] < 7) & (a > 0)
    identity = {"sum": 0.0, "max": -np.inf, "min": np.inf, "prod": 1.0}[kind]
    masked = np.where(keep, a, identity)
    expected = {"sum": masked.sum(1), "max": masked.max(1), "min": masked.min(1), "prod": masked.prod(1)}[kind]
    np.testing.assert_allclose(got, expected.astype("float32"), rtol=1e-5)


def test_reduction_where_depends_on_output_index(rng):
    # A lower-triangular row sum: where= may read the spatial index.
    a = rng.standard_normal((9, 9)).astype("float32")

    def fn(A):
        k = te.reduce_axis((0, 9), name="k")
        return te.compute((9,), lambda i: te.sum(A[i, k], axis=k, where=k <= i), name="C")
    np.testing.assert_allclose(build_run(fn, [a], (9,), name="tril_sum"), np.tril(a).sum(axis=1), rtol=1e-5, atol=1e-5)


def test_reduction_where_never_true_gives_identity():
    a = np.ones((3, 4), dtype="float32")
    for kind, identity in [("sum", 0.0), ("prod", 1.0)]:
        got = build_run(row_reduction(getattr(te, kind), where=lambda A, i, k: k > 100), [a], (3,),
                        name=f"none_{kind}")
        np.testing.assert_array_equal(got, np.full(3, identity, dtype="float32"))


# ------------------------------------------------------------------------ schedule primitives

def test_pragma_appears_in_ir_and_keeps_results(rng):
    A = te.placeholder((64, 16), name="A")
    B = te.compute((64, 16), lambda i, j: A[i, j] * 2.0 + 1.0, name="B")
    s = te.create_schedule(B.op)
    io, ii = s[B].split(B.op.axis[0], factor=8)
    s[B].pragma(io, "auto_unroll_max_step", 16)
    s[B].pragma(ii, "my_hint")  # value defaults to 1
    text = str(te.lower(s, [A, B], name="pragma"))
    assert "pragma_auto_unroll_max_step" in text and "pragma_my_hint" in text
    assert "pragma" in s.steps_python()
    s2 = te.replay([B.op], s.steps_json())
    assert str(te.lower(s2, [A, B], name="pragma")) == text
    f = te.build(s, [A, B], name="pragma")
    a = rng.standard_normal((64, 16)).astype("float32")
    b = nan_like((64, 16))
    f(a, b)
    np.testing.assert_allclose(b, a * 2 + 1, rtol=1e-6)


def test_nontemporal_pragma_streams_aligned_lines_and_is_exact_anywhere(rng):
    # Rows of 40 floats as one vector each: two 16-float pieces (streamed where their address
    # is 64-byte aligned) and an 8-float rest (an ordinary store); the cache (a local buffer
    # computed at the row) is never streamed.
    A = te.placeholder((96, 40), name="A")
    P = te.compute((96, 40), lambda i, j: A[i, j] * 3.0, name="P")
    B = te.compute((96, 40), lambda i, j: P[i, j] + 1.0, name="B")
    s = te.create_schedule(B.op)
    s[P].compute_at(s[B], B.op.axis[0])
    s[P].vectorize(P.op.axis[1])
    s[B].parallel(B.op.axis[0])
    s[B].pragma(B.op.axis[0], "nontemporal")
    s[B].vectorize(B.op.axis[1])
    f = te.build(s, [A, B], name="nt")
    if platform.machine() in ("x86_64", "AMD64"):
        asm = f.get_source("asm")
        assert "vmovntps" in asm and "sfence" in asm
    a = rng.standard_normal((96, 40)).astype("float32")
    aligned = te.nd.array(nan_like((96, 40)))  # te's arrays are 64-byte aligned
    f(a, aligned)
    np.testing.assert_allclose(aligned.numpy(), a * 3 + 1, rtol=1e-6, atol=1e-6)  # an fma may round once
    for offset in (1, 4, 9):  # a NumPy output at any float offset: streams where aligned, else not
        storage = np.full(96 * 40 + 16, np.nan, dtype="float32")
        out = storage[offset:offset + 96 * 40].reshape(96, 40)
        f(a, out)
        np.testing.assert_allclose(out, a * 3 + 1, rtol=1e-6, atol=1e-6)
        assert np.isnan(storage[:offset]).all() and np.isnan(storage[offset + 96 * 40:]).all()


def test_streaming_stores_are_fenced_before_a_parallel_loop_reads_them(rng):
    # B (an argument, so streamed) is written by the calling thread, then read by C's parallel
    # loop on other threads: the stores must be fenced before the loop starts.
    A = te.placeholder((64, 64), name="A")
    B = te.compute((64, 64), lambda i, j: A[i, j] + 1.0, name="B")
    C = te.compute((64, 64), lambda i, j: B[i, 63 - j] * 2.0, name="C")
    s = te.create_schedule(C.op)
    s[B].pragma(B.op.axis[0], "nontemporal")
    s[B].vectorize(B.op.axis[1])
    s[C].parallel(C.op.axis[0])
    f = te.build(s, [A, B, C], name="ntpar")
    if platform.machine() in ("x86_64", "AMD64"):
        lines = [line.strip() for line in f.get_source("asm").split("\n")]
        calls = [k for k, line in enumerate(lines) if "te_parallel_for" in line and "call" in line]
        fences = [k for k, line in enumerate(lines) if line == "sfence"]
        streams = [k for k, line in enumerate(lines) if line.startswith("vmovnt")]
        assert calls and streams
        assert any(max(streams) < k < calls[0] for k in fences), "no sfence between the streaming stores and the loop"
    a = rng.standard_normal((64, 64)).astype("float32")
    b, c = nan_like((64, 64)), nan_like((64, 64))
    f(a, b, c)
    np.testing.assert_allclose(c, (a[:, ::-1] + 1) * 2, rtol=1e-6)


def test_prefetch_prefetches_the_rows_ahead_and_keeps_the_numbers(rng):
    # A 3-row max over a zero-padded image: each row tile first prefetches the input rows of the
    # tile two tiles ahead (clamped inside A at the bottom edge).
    A = te.placeholder((50, 72), name="A")
    P = te.compute((52, 72), lambda i, j: te.if_then_else(te.all(i >= 1, i <= 50), A[i - 1, j], 0.0), name="P")
    r = te.reduce_axis((0, 3), name="r")
    B = te.compute((50, 72), lambda i, j: te.max(P[i + r, j], axis=r), name="B")
    s = te.create_schedule(B.op)
    s[P].compute_inline()
    yo, yi = s[B].split(B.op.axis[0], factor=4)
    s[B].parallel(yo)
    s[B].prefetch(A, yo, 2)
    text = str(te.lower(s, [A, B], name="pf"))
    assert "prefetch(A[" in text
    assert "s[B].prefetch(A, " in s.steps_python()
    f = te.build(s, [A, B], name="pf")
    if platform.machine() in ("x86_64", "AMD64"):
        assert "prefetcht0" in f.get_source("asm")
    a = rng.standard_normal((50, 72)).astype("float32")
    b = nan_like((50, 72))
    f(a, b)
    padded = np.pad(a, ((1, 1), (0, 0)))
    np.testing.assert_array_equal(b, np.maximum(np.maximum(padded[:-2], padded[1:-1]), padded[2:]))
    with pytest.raises(te.TEError, match="must be >= 1"):
        s[B].prefetch(A, yi, 0)
    with pytest.raises(te.TEError, match="first argument must be a tensor"):
        s[B].prefetch("A", yi, 1)


def producer_consumer():
    A = te.placeholder((32, 24), name="A")
    P = te.compute((32, 24), lambda i, j: A[i, j] * 3.0, name="P")
    C = te.compute((32, 24), lambda i, j: P[i, j] + 1.0, name="C")
    return A, P, C


def test_compute_root_undoes_compute_at_and_inline(rng):
    a = rng.standard_normal((32, 24)).astype("float32")
    texts = {}
    for how in ["root", "at_then_root", "inline_then_root", "at"]:
        A, P, C = producer_consumer()
        s = te.create_schedule(C.op)
        if how.startswith("at"):
            s[P].compute_at(s[C], C.op.axis[0])
        if how.startswith("inline"):
            s[P].compute_inline()
        if how.endswith("root"):
            s[P].compute_root()
        assert s[P].attach_type == ("scope" if how == "at" else "root")
        texts[how] = str(te.lower(s, [A, C], name="pc"))
        f = te.build(s, [A, C], name="pc")
        c = nan_like((32, 24))
        f(a, c)
        np.testing.assert_allclose(c, a * 3 + 1, rtol=1e-5, atol=1e-6, err_msg=how)  # fused: may use an FMA
    assert texts["at_then_root"] == texts["root"] == texts["inline_then_root"]
    assert texts["at"] != texts["root"]


# ------------------------------------------------------------------------ CUDA (NVRTC, no GPU needed)

def cuda_module():
    n = te.var("n")
    A = te.placeholder((n,), name="A")
    B = te.placeholder((n,), name="B")
    C = te.compute((n,), lambda i: A[i] * 2.0 + B[i], name="C")
    s = te.create_schedule(C.op)
    bx, tx = s[C].split(C.op.axis[0], factor=64)
    s[C].bind(bx, te.thread_axis("blockIdx.x"))
    s[C].bind(tx, te.thread_axis((0, 64), "threadIdx.x"))
    try:
        return te.build(s, [A, B, C], target="cuda", name="axpy_gpu")
    except te.TEError as err:
        if "without CUDA" in str(err):
            pytest.skip("te was built without CUDA (TE_WITH_CUDA=OFF)")
        raise


def test_thread_axis_bind_builds_for_cuda():
    f = cuda_module()
    assert f.target == "cuda"
    source = f.get_source("cuda")
    for part in ['extern "C" __global__', "axpy_gpu_kernel(", "const float* __restrict__ A",
                 "float* __restrict__ C", "blockIdx.x", "threadIdx.x", "int n"]:
        assert part in source, f"{part!r} missing from\n{source}"
    assert "for (" not in source  # both loops became thread indices
    assert "bind(blockIdx.x)" in f.get_source("lowered")
    try:
        ptx = f.get_source("ptx")  # NVRTC compiles the CUDA C
    except te.TEError as err:
        if "nvrtc" in str(err).lower():
            pytest.skip(f"NVRTC is not available here: {err}")
        raise
    assert ".entry axpy_gpu_kernel" in ptx


def test_cuda_kernel_runs_or_says_no_device(rng):
    f = cuda_module()
    a = rng.standard_normal(1000).astype("float32")
    b = rng.standard_normal(1000).astype("float32")
    c = nan_like(1000)
    try:
        f(a, b, c)
    except te.TEError as err:
        assert "no CUDA device" in str(err) or "CUDA driver" in str(err), str(err)
        pytest.skip(f"no GPU here: {err}")
    np.testing.assert_allclose(c, 2 * a + b, rtol=1e-6)


# ------------------------------------------------------------------------ DLPack edge cases

class DLPackOnly:
    """Exposes only the DLPack protocol of an array (so te takes the DLPack path)."""

    def __init__(self, array):
        self.array = array

    def __dlpack__(self, stream=None):
        return self.array.__dlpack__()

    def __dlpack_device__(self):
        return self.array.__dlpack_device__()


def scale_kernel():
    n = te.var("n")
    A = te.placeholder((n,), name="A")
    B = te.compute((n,), lambda i: A[i] * 3.0, name="B")
    return te.build(te.create_schedule(B.op), [A, B], name="scale")


def test_dlpack_strided_input_is_a_clear_error():
    f = scale_kernel()
    strided = np.arange(16, dtype="float32")[::2]
    out = np.zeros(8, dtype="float32")
    with pytest.raises(te.TEError, match=r"argument 0 \(A\).*(strided|compact)"):
        f(DLPackOnly(strided), out)
    with pytest.raises(te.TEError, match=r"argument 1 \(B\).*(strided|compact)"):
        f(DLPackOnly(np.arange(8, dtype="float32")), DLPackOnly(np.zeros(16, dtype="float32")[::2]))
    # A contiguous DLPack input works.
    f(DLPackOnly(np.arange(8, dtype="float32")), out)
    np.testing.assert_array_equal(out, 3 * np.arange(8, dtype="float32"))


def test_dlpack_wrong_dtype_is_a_clear_error():
    f = scale_kernel()
    out = np.zeros(8, dtype="float32")
    with pytest.raises(te.TEError, match=r"argument 0 \(A\).*expected dtype float32, got float64"):
        f(DLPackOnly(np.arange(8, dtype="float64")), out)
    with pytest.raises(te.TEError, match=r"argument 1 \(B\).*expected dtype float32, got int32"):
        f(DLPackOnly(np.arange(8, dtype="float32")), DLPackOnly(np.zeros(8, dtype="int32")))
    with pytest.raises(te.TEError, match=r"argument 0 \(A\).*float32.*int64"):
        f(te.nd.array(np.arange(8, dtype="int64")), out)


def test_torch_from_dlpack_shares_memory():
    torch = pytest.importorskip("torch")
    a = te.nd.array(np.zeros(8, dtype="float32"))
    t = torch.from_dlpack(a)
    assert t.dtype == torch.float32 and tuple(t.shape) == (8,)
    scale_kernel()(te.nd.array(np.arange(8, dtype="float32")), a)  # writes a's memory
    np.testing.assert_array_equal(t.numpy(), 3 * np.arange(8, dtype="float32"))
    # And the other way: a torch tensor is a kernel argument through __dlpack__.
    x = torch.arange(8, dtype=torch.float32)
    y = torch.zeros(8, dtype=torch.float32)
    scale_kernel()(x, y)
    np.testing.assert_array_equal(y.numpy(), 3 * np.arange(8, dtype="float32"))
