"""Building and calling kernels from several Python threads at once (issue 8, point 5).

te.build / te.lower release the GIL while compiling, a Module releases it while the kernel
runs, and tune() while it measures. Two properties are checked: results stay correct when
threads compile and call kernels concurrently, and the GIL really is released, shown by
counters (a Python thread makes progress while another thread is inside te), not timing.
"""
import sys
import threading
import time

import numpy as np
import pytest

import te
from conftest import nan_like


def _kernel(kind, size, name):
    """Three computes with their schedules: (schedule, tensors, numpy reference fn)."""
    if kind == 0:
        A = te.placeholder((size,), name="A")
        B = te.placeholder((size,), name="B")
        C = te.compute((size,), lambda i: A[i] * 3.0 + B[i], name="C")
        s = te.create_schedule(C.op)
        xo, xi = s[C].split(C.op.axis[0], factor=16)
        s[C].vectorize(xi)
        s[C].parallel(xo)
        return s, [A, B, C], lambda a, b: a * 3 + b
    if kind == 1:
        A = te.placeholder((size, 24), name="A")
        B = te.placeholder((24, 20), name="B")
        k = te.reduce_axis((0, 24), name="k")
        C = te.compute((size, 20), lambda i, j: te.sum(A[i, k] * B[k, j], axis=k), name="C")
        s = te.create_schedule(C.op)
        io, ii = s[C].split(C.op.axis[0], factor=4)
        s[C].parallel(io)
        return s, [A, B, C], lambda a, b: a @ b
    A = te.placeholder((size, 37), name="A")
    r = te.reduce_axis((0, 37), name="r")
    M = te.compute((size,), lambda i: te.max(A[i, r], axis=r), name="M")
    s = te.create_schedule(M.op)
    return s, [A, M], lambda a: a.max(axis=1)


def _check(f, tensors, ref, rng):
    ins = [rng.standard_normal([int(d) for d in t.shape]).astype("float32") for t in tensors[:-1]]
    out = nan_like(tuple(int(d) for d in tensors[-1].shape))
    f(*ins, out)
    np.testing.assert_allclose(out, ref(*ins), rtol=1e-4, atol=1e-4)


def test_threads_build_and_call_different_kernels():
    errors = []
    barrier = threading.Barrier(4)

    def worker(t):
        try:
            rng = np.random.default_rng(t)
            barrier.wait()
            for rnd in range(3):
                s, tensors, ref = _kernel((t + rnd) % 3, 50 + 7 * t + rnd, f"k{t}_{rnd}")
                f = te.build(s, tensors, target="llvm", name=f"k{t}_{rnd}")
                for _ in range(3):
                    _check(f, tensors, ref, rng)
        except Exception as e:  # reported below with the thread's number
            errors.append((t, repr(e)))

    threads = [threading.Thread(target=worker, args=(t,)) for t in range(4)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert errors == []


def test_one_module_called_from_many_threads():
    s, tensors, ref = _kernel(1, 64, "shared")
    f = te.build(s, tensors, target="llvm", name="shared")
    errors = []

    def worker(t):
        try:
            rng = np.random.default_rng(100 + t)
            for _ in range(10):
                _check(f, tensors, ref, rng)
        except Exception as e:
            errors.append((t, repr(e)))

    threads = [threading.Thread(target=worker, args=(t,)) for t in range(4)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert errors == []


class _Counter:
    """A Python thread counting loop iterations; each iteration gives the GIL up (sleep(0)),
    so it never keeps the main thread waiting once te returns."""

    def __init__(self):
        self.count = 0
        self._stop = False
        self._thread = threading.Thread(target=self._run)

    def _run(self):
        while not self._stop:
            self.count += 1
            time.sleep(0)

    def __enter__(self):
        self._thread.start()
        while self.count == 0:  # running before the measured call starts
            time.sleep(0.001)
        return self

    def __exit__(self, *exc):
        self._stop = True
        self._thread.join()


@pytest.fixture
def no_forced_gil_switch():
    """With a huge switch interval the interpreter never takes the GIL from a thread; only a
    call that releases it lets the counter thread run, so the counts prove the release."""
    old = sys.getswitchinterval()
    sys.setswitchinterval(1000.0)
    yield
    sys.setswitchinterval(old)


def _big_matmul(n):
    A = te.placeholder((n, n), name="A")
    B = te.placeholder((n, n), name="B")
    k = te.reduce_axis((0, n), name="k")
    C = te.compute((n, n), lambda i, j: te.sum(A[i, k] * B[k, j], axis=k), name="C")
    s = te.create_schedule(C.op)
    io, jo, ii, ji = s[C].tile(C.op.axis[0], C.op.axis[1], 8, 16)
    ko, ki = s[C].split(k, factor=4)
    s[C].reorder(io, jo, ko, ki, ii, ji)
    s[C].unroll(ki)
    s[C].vectorize(ji)
    return s, [A, B, C]


def _advances_during(call, attempts):
    """Whether the counter thread ran while call() was inside te, in any of a few attempts
    (one attempt may end before a loaded machine schedules the counter thread at all; a
    call that kept the GIL never lets it run)."""
    with _Counter() as counter:
        for _ in range(attempts):
            before = counter.count
            call()
            if counter.count > before:
                return True
    return False


def test_gil_is_released_while_compiling_and_running(no_forced_gil_switch):
    s, tensors = _big_matmul(384)
    built = []
    assert _advances_during(lambda: built.append(te.build(s, tensors, target="llvm", name="gil_build")), 10), \
        "te.build kept the GIL: no other Python thread ran while it compiled"
    assert _advances_during(lambda: te.lower(s, tensors, name="gil_lower"), 200), "te.lower kept the GIL"
    f = built[-1]
    a = np.random.default_rng(0).standard_normal((384, 384)).astype("float32")
    c = nan_like((384, 384))
    assert _advances_during(lambda: f(a, a, c), 50), \
        "a kernel call kept the GIL: no other Python thread ran while it ran"
    np.testing.assert_allclose(c, a @ a, rtol=1e-3, atol=1e-3)


def test_counter_does_not_advance_while_the_gil_is_held(no_forced_gil_switch):
    """The control for the test above: a call that holds the GIL (a pure-Python busy loop of
    similar length) lets the counter thread make no progress, so a positive count there
    is the release, not the interpreter's scheduling."""
    with _Counter() as counter:
        before = counter.count
        deadline = time.perf_counter() + 0.05
        x = 0
        while time.perf_counter() < deadline:
            x += 1
        held = counter.count - before
    assert x > 0
    assert held == 0
