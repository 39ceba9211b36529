"""A schedule's steps printed as Python (Schedule.steps_python, also what `autotune best`
prints) are real Python: executed on a fresh compute, they rebuild a schedule that lowers to
the same loop IR as the original, for every primitive."""
import numpy as np
import pytest

import te


def pipeline(n=24):
    """A -> P (element-wise) -> C (matmul with B) -> D (element-wise); tensors by name."""
    A = te.placeholder((n, n), name="A")
    B = te.placeholder((n, n), name="B")
    k = te.reduce_axis((0, n), name="k")
    P = te.compute((n, n), lambda i, j: A[i, j] * 2.0, name="P")
    C = te.compute((n, n), lambda i, j: te.sum(P[i, k] * B[k, j], axis=k), name="C")
    D = te.compute((n, n), lambda i, j: C[i, j] + 1.0, name="D")
    return {"A": A, "B": B, "P": P, "C": C, "D": D}


def cached_tiles(t):
    s = te.create_schedule(t["D"].op)
    s[t["P"]].compute_inline()
    C, D = t["C"], t["D"]
    CL = s.cache_write(C, "local")
    io, jo, ii, ji = s[C].tile(C.op.axis[0], C.op.axis[1], 8, 8)
    s[CL].compute_at(s[C], jo)
    ko, ki = s[CL].split(s[CL].op.reduce_axis[0], factor=4)
    s[CL].reorder(ko, ki, *s[CL].op.axis)
    s[CL].vectorize(s[CL].op.axis[1])
    s[CL].unroll(ki)
    s[C].pragma(io, "auto_unroll_max_step", 16)
    s[D].parallel(s[D].fuse(*D.op.axis))
    return s


def nparts_cache_read_compute_at(t):
    s = te.create_schedule(t["D"].op)
    C, D = t["C"], t["D"]
    BL = s.cache_read(t["B"], "local", [C])
    yo, yi = s[C].split(C.op.axis[1], nparts=5)  # non-divisible: 24 into 5 parts
    s[BL].compute_at(s[C], yo)
    s[t["P"]].compute_at(s[C], C.op.axis[0])
    s[C].compute_at(s[D], D.op.axis[0])
    return s


def rfactor_and_root(t):
    s = te.create_schedule(t["D"].op)
    C = t["C"]
    ko, ki = s[C].split(C.op.reduce_axis[0], factor=6)
    CF = s.rfactor(C, ki)
    s[CF].parallel(s[CF].op.axis[0])
    s[t["P"]].compute_root()
    return s


def storage_align_caches(t):
    """Padded rows: the local copy of B at stride 24 -> 33 (33 % 16 == 1), C's cache 24 -> 27."""
    s = te.create_schedule(t["D"].op)
    C = t["C"]
    BL = s.cache_read(t["B"], "global", [C])
    s[BL].storage_align(BL.op.axis[0], 16, 1)
    CL = s.cache_write(C, "global")
    s[CL].storage_align(CL.op.axis[0], 9, 0)
    io, ii = s[C].split(C.op.axis[0], factor=8)
    s[CL].compute_at(s[C], io)
    return s


def test_storage_align_pads_the_stride():
    t = pipeline()
    ir = str(te.lower(storage_align_caches(t), [t["A"], t["B"], t["D"]]))
    assert "float32 * 792]" in ir, ir  # B.global: 24 rows x 33
    with pytest.raises(te.TEError, match="offset 5 .*must be in"):
        s = te.create_schedule(t["D"].op)
        s[t["C"]].storage_align(t["C"].op.axis[0], 4, 5)


@pytest.mark.parametrize("make", [cached_tiles, nparts_cache_read_compute_at, rfactor_and_root, storage_align_caches])
def test_steps_python_replays_to_the_same_ir(make):
    t = pipeline()
    original = make(t)
    args = [t["A"], t["B"], t["D"]]
    code = original.steps_python()

    fresh = pipeline()  # a new compute: the text must not lean on the original's objects
    namespace = {"te": te, **fresh}
    exec(code, namespace)
    replayed = namespace["s"]
    fresh_args = [fresh["A"], fresh["B"], fresh["D"]]
    assert str(te.lower(replayed, fresh_args)) == str(te.lower(original, args)), code

    # And it computes the right numbers.
    f = te.build(replayed, fresh_args, target="llvm")
    rng = np.random.default_rng(0)
    a = rng.uniform(-1, 1, (24, 24)).astype("float32")
    b = rng.uniform(-1, 1, (24, 24)).astype("float32")
    d = np.full((24, 24), np.nan, dtype="float32")
    f(a, b, d)
    np.testing.assert_allclose(d, (2 * a) @ b + 1, rtol=1e-4, atol=1e-4)


def test_steps_python_replays_thread_binding():
    """bind and shared-memory caches replay too: same CUDA C from both schedules."""
    def gpu_schedule(t):
        s = te.create_schedule(t["C"].op)
        C = t["C"]
        s[t["P"]].compute_inline()
        BS = s.cache_read(t["B"], "shared", [C])
        i, j = C.op.axis
        io, ii = s[C].split(i, factor=8)
        jo, ji = s[C].split(j, factor=8)
        ko, ki = s[C].split(C.op.reduce_axis[0], factor=4)
        s[C].reorder(io, jo, ii, ji, ko, ki)
        s[C].bind(io, te.thread_axis("blockIdx.y"))
        s[C].bind(jo, te.thread_axis("blockIdx.x"))
        s[C].bind(ii, te.thread_axis("threadIdx.y"))
        s[C].bind(ji, te.thread_axis("threadIdx.x"))
        s[BS].compute_at(s[C], ko)
        by, bx = s[BS].op.axis
        s[BS].bind(by, te.thread_axis("threadIdx.y"))
        s[BS].bind(bx, te.thread_axis("threadIdx.x"))
        return s

    t = pipeline()
    original = gpu_schedule(t)
    args = [t["A"], t["B"], t["C"]]
    try:
        source = te.build(original, args, target="cuda").get_source("cuda")
    except te.TEError as e:
        if "CUDA" not in str(e) and "NVRTC" not in str(e) and "nvrtc" not in str(e):
            raise
        pytest.skip(f"CUDA code generation unavailable here: {e}")
    fresh = pipeline()
    namespace = {"te": te, **fresh}
    code = original.steps_python()
    assert "bind(" in code and "te.thread_axis(" in code, code
    exec(code, namespace)
    replayed = te.build(namespace["s"], [fresh["A"], fresh["B"], fresh["C"]], target="cuda")
    assert replayed.get_source("cuda") == source, code
