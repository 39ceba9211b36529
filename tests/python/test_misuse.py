"""A list of user mistakes through the Python API: each raises te.TEError (a ValueError)
with a message naming what was wrong, and the interpreter keeps working afterwards."""
import os
import tempfile

import numpy as np
import pytest

import te


def setup():
    A = te.placeholder((16, 8), name="A")
    B = te.placeholder((8,), name="B")
    k = te.reduce_axis((0, 8), name="k")
    C = te.compute((16,), lambda i: te.sum(A[i, k] * B[k], axis=k), name="C")
    D = te.compute((16, 8), lambda i, j: A[i, j] + 1.0, name="D")
    return A, B, k, C, D


def built_scale():
    A = te.placeholder((4,), name="A")
    B = te.compute((4,), lambda i: A[i] + 1.0, name="B")
    return te.build(te.create_schedule(B.op), [A, B], name="plus")


def read_only(shape, dtype="float32"):
    array = np.zeros(shape, dtype)
    array.flags.writeable = False
    return array


def read_only_memmap(shape, dtype="float32"):
    """np.memmap(mode="r"): pages mapped without write permission (a write would segfault)."""
    with tempfile.NamedTemporaryFile(suffix=".bin", delete=False) as f:
        np.zeros(shape, dtype).tofile(f)
    try:
        return np.memmap(f.name, dtype=dtype, mode="r", shape=shape)
    finally:
        os.unlink(f.name)  # the mapping outlives the file name


def bound_to_thread(D):
    s = te.create_schedule(D.op)
    s[D].bind(D.op.axis[0], te.thread_axis("threadIdx.x"))
    return te.build(s, [D.op.input_tensors[0], D], name="bound")


def misuse_cases():
    A, B, k, C, D = setup()
    s = te.create_schedule([C.op, D.op])
    f = built_scale()
    other = te.compute((16, 8), lambda i, j: A[i, j] * 2.0, name="other")
    cases = [
        ("unknown dtype", lambda: te.placeholder((4,), dtype="float7", name="X"), "float7"),
        ("dtype of wrong type", lambda: te.placeholder((4,), dtype=3.5, name="X"), "dtype"),
        ("shape of strings", lambda: te.placeholder(("a", 4), name="X"), "shape"),
        ("too few indices", lambda: A[1], "2 dimensions"),
        ("too many indices", lambda: B[1, 2], "1 dimensions"),
        ("index by a tensor", lambda: B[A], "index it first"),
        ("lambda arity", lambda: te.compute((4, 4), lambda i: B[i], name="bad_arity"), "bad_arity"),
        ("compute returns None", lambda: te.compute((4,), lambda i: None, name="none_body"), "none_body"),
        ("compute not callable", lambda: te.compute((4,), 3, name="nofn"), "nofn"),
        ("float shape", lambda: te.compute((te.var("x", "float32"),), lambda i: 1.0, name="fshape"), "fshape"),
        ("int true division", lambda: te.var("i") / 2, "//"),
        ("float modulo", lambda: te.var("x", "float32") % 2.0, "%"),
        ("expr as bool", lambda: bool(te.var("i") < 3), "te.all"),
        ("sum without axis", lambda: te.sum(A[0, 0]), "axis"),
        ("sum over non-axis", lambda: te.sum(A[0, 0], axis=[3]), "IterVar"),
        ("reduce_axis bad range", lambda: te.reduce_axis((0, 1, 2), name="rr"), "rr"),
        ("split both factor and nparts", lambda: s[C].split(C.op.axis[0], factor=2, nparts=2), "exactly one"),
        ("split neither", lambda: s[C].split(C.op.axis[0]), "exactly one"),
        ("split zero factor", lambda: s[C].split(C.op.axis[0], factor=0), "C"),
        ("split negative factor", lambda: s[C].split(C.op.axis[0], factor=-4), "C"),
        ("split float factor", lambda: s[C].split(C.op.axis[0], factor=2.5), "factor"),
        ("split axis of another stage", lambda: s[C].split(D.op.axis[0], factor=2), "C"),
        ("vectorize non-IterVar", lambda: s[C].vectorize(3), "IterVar"),
        ("reorder with foreign axis", lambda: s[C].reorder(D.op.axis[1], C.op.axis[0]), "C"),
        ("compute_at with non-stage", lambda: s[D].compute_at(C, C.op.axis[0]), "stage"),
        ("stage of an op not in schedule", lambda: s[other], "other"),
        ("schedule of a non-op", lambda: te.create_schedule(3), "tensor or an operation"),
        ("placeholder has no axis", lambda: A.op.axis, "placeholder"),
        ("lower with non-list args", lambda: te.lower(te.create_schedule(D.op), A, name="lw"), "list"),
        ("build with non-tensor arg", lambda: te.build(te.create_schedule(D.op), [A, "D"]), "tensor"),
        ("bad target", lambda: te.build(te.create_schedule(D.op), [A, D], target="fpga"), "fpga"),
        ("call with too few arrays", lambda: f(np.zeros(4, "float32")), "plus"),
        ("call with wrong shape", lambda: f(np.zeros(4, "float32"), np.zeros(5, "float32")), "B"),
        ("call with wrong dtype", lambda: f(np.zeros(4, "float32"), np.zeros(4, "int32")), "B"),
        ("call with non-contiguous", lambda: f(np.zeros(8, "float32")[::2], np.zeros(4, "float32")), "contiguous"),
        ("call with a list", lambda: f([0.0] * 4, np.zeros(4, "float32")), "argument 0"),
        ("call with a read-only output", lambda: f(np.zeros(4, "float32"), read_only(4)), "argument 1 (B)"),
        ("call with a read-only memmap output", lambda: f(np.zeros(4, "float32"), read_only_memmap((4,))), "writeable"),
        ("time a read-only output", lambda: f.time_evaluator()(read_only(4), read_only(4)), "read-only"),
        ("time_evaluator repeat 0", lambda: f.time_evaluator(repeat=0)(np.zeros(4, "float32"), np.zeros(4, "float32")), "repeat"),
        ("unknown source format", lambda: f.get_source("pdf"), "pdf"),
        ("nd.array on another device", lambda: te.nd.array(np.zeros(3), device=te.Device("cuda", 0)), "cuda"),
        ("nd.empty negative shape", lambda: te.nd.empty((-1, 2)), "-1"),
        ("Expr int of symbolic", lambda: int(te.var("n")), "n"),
        ("cache_read with bad readers", lambda: s.cache_read(A, "local", [5]), "readers"),
        ("rfactor with non-axis", lambda: s.rfactor(C, "k"), "IterVar"),
        ("bind on a CPU target", lambda: bound_to_thread(D), "parallel()"),
    ]
    return cases


CASES = misuse_cases()


@pytest.mark.parametrize("name,action,fragment", CASES, ids=[c[0] for c in CASES])
def test_misuse_raises_te_error(name, action, fragment):
    with pytest.raises(te.TEError) as info:
        action()
    assert isinstance(info.value, ValueError)
    assert fragment in str(info.value), f"{name}: message {str(info.value)!r} lacks {fragment!r}"


def test_at_least_25_cases_and_interpreter_survives():
    assert len(CASES) >= 25
    for _, action, _ in CASES:
        with pytest.raises(te.TEError):
            action()
    f = built_scale()
    out = np.zeros(4, "float32")
    f(np.arange(4, dtype="float32"), out)
    np.testing.assert_array_equal(out, np.arange(4, dtype="float32") + 1)
