"""Import, exceptions, vector add, reprs, lowering and module helpers."""
import numpy as np
import pytest

import te
from conftest import nan_like


def test_exceptions_are_value_and_runtime_errors():
    assert issubclass(te.TEError, ValueError)
    assert issubclass(te.TEInternalError, RuntimeError)
    with pytest.raises(te.TEError, match="dtype"):
        te.placeholder((4,), dtype="float33", name="A")


def vector_add(n):
    A = te.placeholder((n,), name="A")
    B = te.placeholder((n,), name="B")
    C = te.compute((n,), lambda i: A[i] + B[i], name="C")
    return A, B, C


def test_vector_add(rng):
    A, B, C = vector_add(1000)
    s = te.create_schedule(C.op)
    xo, xi = s[C].split(C.op.axis[0], factor=64)
    s[C].vectorize(xi)
    s[C].parallel(xo)
    f = te.build(s, [A, B, C], target="llvm", name="vadd")
    a = rng.standard_normal(1000).astype("float32")
    b = rng.standard_normal(1000).astype("float32")
    c = nan_like(1000)
    f(a, b, c)
    np.testing.assert_allclose(c, a + b, rtol=1e-6)


def test_axis_names_follow_lambda_parameters():
    A = te.placeholder((4, 5), name="A")
    B = te.compute((4, 5), lambda row, col: A[row, col] * 2, name="B")
    assert [ax.name for ax in B.op.axis] == ["row", "col"]
    assert "row" in str(te.lower(te.create_schedule(B.op), [A, B]))


def test_reprs_and_properties():
    n = te.var("n")
    A = te.placeholder((n, 8), name="A")
    B = te.compute((n, 8), lambda i, j: A[i, j] + 1.0, name="B")
    assert "A" in repr(A) and "float32" in repr(A)
    assert A.dtype == "float32" and B.op.name == "B" and A.ndim == 2
    assert int(A.shape[1]) == 8 and repr(A.shape[0]) == "n"
    assert "A" in repr(A[0, 1]) and (A[0, 1] + 1).dtype == "float32"
    s = te.create_schedule(B.op)
    assert "B" in repr(s) and "B" in repr(s[B])
    assert "i" in repr(B.op.axis[0])
    f = te.build(s, [A, B], name="plus_one")
    assert "plus_one" in repr(f)
    assert "define" in f.get_source("ll")
    assert "for" in f.get_source("lowered")
    lowered = te.lower(s, [A, B], name="plus_one")
    assert str(lowered) == repr(lowered) and "B" in str(lowered)


def test_operators_follow_python_conventions():
    i = te.var("i")
    assert "floordiv" in repr(i // 2).lower() or "//" in repr(i // 2)
    with pytest.raises(te.TEError, match="//"):
        i / 2
    x = te.var("x", "float32")
    assert (x / 2).dtype == "float32"
    assert (2 * x).dtype == "float32" and (x ** 2).dtype == "float32"
    assert (i < 3).dtype == "bool" and (3 < i).dtype == "bool"
    assert (-i).dtype == "int32"
    with pytest.raises(te.TEError, match="te.all"):
        bool(i < 3)


def test_time_evaluator():
    A, B, C = vector_add(256)
    s = te.create_schedule(C.op)
    f = te.build(s, [A, B, C])
    a = np.ones(256, "float32")
    result = f.time_evaluator(number=2, repeat=3, min_repeat_ms=1)(a, a, np.empty(256, "float32"))
    assert len(result.results) == 3
    assert 0 < result.median and min(result.results) <= result.mean <= max(result.results)
    assert result.std >= 0 and "median" in repr(result)


def test_steps_are_recorded_and_replayable():
    A, B, C = vector_add(128)
    s = te.create_schedule(C.op)
    xo, xi = s[C].split(C.op.axis[0], factor=16)
    s[C].vectorize(xi)
    assert "split" in s.steps_json() and "split" in s.steps_python()
    s2 = te.replay([C.op], s.steps_json())
    assert str(te.lower(s2, [A, B, C])) == str(te.lower(s, [A, B, C]))


def test_math_functions(rng):
    A = te.placeholder((64,), name="A")
    fns = {
        "exp": (te.exp, np.exp), "sqrt": (lambda x: te.sqrt(te.abs(x)), lambda x: np.sqrt(np.abs(x))),
        "tanh": (te.tanh, np.tanh), "sigmoid": (te.sigmoid, lambda x: 1 / (1 + np.exp(-x))),
        "floor": (te.floor, np.floor), "ceil": (te.ceil, np.ceil),
        "power": (lambda x: te.power(te.abs(x), 1.5), lambda x: np.abs(x) ** 1.5),
        "select": (lambda x: te.if_then_else(x > 0, x, 0.0), lambda x: np.maximum(x, 0)),
        "fma": (lambda x: te.fma(x, x, 1.0), lambda x: x * x + 1),
    }
    a = rng.standard_normal(64).astype("float32")
    for name, (te_fn, np_fn) in fns.items():
        B = te.compute((64,), lambda i: te_fn(A[i]), name=name)
        f = te.build(te.create_schedule(B.op), [A, B], name=name)
        b = nan_like(64)
        f(a, b)
        np.testing.assert_allclose(b, np_fn(a), rtol=1e-4, atol=1e-5, err_msg=name)
