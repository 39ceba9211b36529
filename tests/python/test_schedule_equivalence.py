"""The schedule-equivalence property through the Python API: random legal schedules of an
operator compute the same result as NumPy (outputs pre-filled with NaN, fixed seeds)."""
import random

import numpy as np
import pytest

import te
from conftest import nan_like

NUM_SCHEDULES = 30


def random_loop_schedule(rnd, s, C, allow_parallel=True):
    """Random splits/reorders/fuses, an annotation and a prefetch on one stage; only legal requests."""
    stage = s[C]
    for _ in range(rnd.randint(0, 3)):
        leaves = stage.leaf_iter_vars
        axis = rnd.choice(leaves)
        if rnd.random() < 0.7:
            stage.split(axis, factor=rnd.choice([1, 2, 3, 4, 8, 16]))
        else:
            stage.split(axis, nparts=rnd.choice([2, 3, 5]))
    if rnd.random() < 0.5:
        leaves = list(stage.leaf_iter_vars)
        rnd.shuffle(leaves)
        stage.reorder(*leaves)
    if rnd.random() < 0.3:
        leaves = stage.leaf_iter_vars
        pos = rnd.randrange(len(leaves) - 1) if len(leaves) > 1 else None
        if pos is not None and leaves[pos].iter_type == leaves[pos + 1].iter_type:
            stage.fuse(leaves[pos], leaves[pos + 1])
    leaves = stage.leaf_iter_vars
    innermost = leaves[-1]
    choice = rnd.random()
    if choice < 0.3 and innermost.iter_type == "data_par":
        stage.vectorize(innermost)
    elif choice < 0.5:
        stage.unroll(innermost)
    if allow_parallel and rnd.random() < 0.3 and leaves[0].iter_type == "data_par" and len(leaves) > 1:
        stage.parallel(leaves[0])
    inputs = C.op.input_tensors
    if rnd.random() < 0.3 and inputs:
        # a cache hint: must never change the numbers, wherever it goes (not on a vectorized axis)
        axes = leaves[:-1] if choice < 0.3 and innermost.iter_type == "data_par" else leaves
        if axes:
            at = rnd.randrange(len(axes))
            inner = axes[at + 1:]
            spread = rnd.choice(inner) if inner and rnd.random() < 0.5 else None
            stage.prefetch(rnd.choice(inputs), axes[at], rnd.randint(1, 3), spread=spread)


def run_property(make, reference, seed_base, inputs):
    expected = reference(*inputs)
    for seed in range(seed_base, seed_base + NUM_SCHEDULES):
        rnd = random.Random(seed)
        args, out = make()
        s = te.create_schedule(out.op)
        random_loop_schedule(rnd, s, out)
        try:
            f = te.build(s, args, name=f"equiv_{seed}")
        except te.TEError as err:  # a legal-looking but rejected combination must say why
            assert str(err), f"seed {seed}: empty error message"
            continue
        result = nan_like(expected.shape)
        f(*inputs, result)
        np.testing.assert_allclose(result, expected, rtol=1e-4, atol=1e-4,
                                   err_msg=f"seed {seed}: {s.steps_python()}")


def test_elementwise_2d_random_schedules():
    rng = np.random.default_rng(1)
    a = rng.standard_normal((13, 21)).astype("float32")
    b = rng.standard_normal((13, 21)).astype("float32")

    def make():
        A = te.placeholder((13, 21), name="A")
        B = te.placeholder((13, 21), name="B")
        C = te.compute((13, 21), lambda i, j: A[i, j] * B[i, j] + A[i, j], name="C")
        return [A, B, C], C
    run_property(make, lambda x, y: x * y + x, 100, [a, b])


def test_matmul_random_schedules():
    rng = np.random.default_rng(2)
    a = rng.standard_normal((12, 10)).astype("float32")
    b = rng.standard_normal((10, 14)).astype("float32")

    def make():
        A = te.placeholder((12, 10), name="A")
        B = te.placeholder((10, 14), name="B")
        k = te.reduce_axis((0, 10), name="k")
        C = te.compute((12, 14), lambda i, j: te.sum(A[i, k] * B[k, j], axis=k), name="C")
        return [A, B, C], C
    run_property(make, lambda x, y: x @ y, 200, [a, b])


def test_row_sum_random_schedules():
    rng = np.random.default_rng(3)
    a = rng.standard_normal((9, 31)).astype("float32")

    def make():
        A = te.placeholder((9, 31), name="A")
        k = te.reduce_axis((0, 31), name="k")
        C = te.compute((9,), lambda i: te.sum(A[i, k] * 2.0, axis=k), name="C")
        return [A, C], C
    run_property(make, lambda x: (2 * x).sum(axis=1), 300, [a])
