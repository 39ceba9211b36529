"""te.nd arrays and DLPack: round trips with NumPy without copies, kernels on te.nd arrays
and on any __dlpack__ object, clear errors for non-contiguous or mistyped arrays."""
import numpy as np
import pytest

import te


def scale_kernel():
    n = te.var("n")
    A = te.placeholder((n,), name="A")
    B = te.compute((n,), lambda i: A[i] * 3.0, name="B")
    return te.build(te.create_schedule(B.op), [A, B], name="scale")


def test_nd_array_roundtrip():
    x = np.arange(12, dtype="float32").reshape(3, 4)
    a = te.nd.array(x, device=te.cpu())
    assert a.shape == (3, 4) and a.dtype == "float32"
    np.testing.assert_array_equal(a.numpy(), x)
    e = te.nd.empty((2, 5), "int32")
    assert e.shape == (2, 5) and e.dtype == "int32"
    assert "NDArray" in repr(a)


def test_numpy_from_dlpack_shares_memory():
    a = te.nd.array(np.zeros(8, dtype="float32"))
    assert a.__dlpack_device__() == (1, 0)
    view = np.from_dlpack(a)
    f = scale_kernel()
    f(te.nd.array(np.ones(8, dtype="float32")), a)  # writes into a's memory
    np.testing.assert_array_equal(view, np.full(8, 3.0, dtype="float32"))
    del a  # the view keeps the storage alive
    np.testing.assert_array_equal(view, np.full(8, 3.0, dtype="float32"))


def test_kernel_on_te_nd_arrays_and_dlpack_objects():
    f = scale_kernel()
    x = np.arange(10, dtype="float32")
    out = te.nd.empty((10,), "float32")
    f(te.nd.array(x), out)
    np.testing.assert_array_equal(out.numpy(), 3 * x)

    class Wrapped:  # any producer of the unversioned DLPack capsule
        def __init__(self, array):
            self.array = array

        def __dlpack__(self, stream=None):
            return self.array.__dlpack__()

        def __dlpack_device__(self):
            return (1, 0)
    target = te.nd.empty((10,), "float32")
    f(Wrapped(te.nd.array(x)), Wrapped(target))
    np.testing.assert_array_equal(target.numpy(), 3 * x)


def test_outputs_written_in_place_and_bad_arrays_rejected():
    f = scale_kernel()
    x = np.arange(16, dtype="float32")
    out = np.zeros(16, dtype="float32")
    f(x, out)
    np.testing.assert_array_equal(out, 3 * x)
    strided = np.zeros(32, dtype="float32")[::2]
    with pytest.raises(te.TEError, match="contiguous"):
        f(x, strided)
    with pytest.raises(te.TEError, match="B"):
        f(x, np.zeros(16, dtype="float64"))
    with pytest.raises(te.TEError, match="argument"):
        f(x, [0.0] * 16)
    # The interpreter survives and the kernel still works.
    f(x, out)
    np.testing.assert_array_equal(out, 3 * x)


def test_read_only_arrays_are_inputs_only(tmp_path):
    """A read-only NumPy input works; a read-only output (which the kernel would write behind
    NumPy's back, or fault on for np.memmap(mode="r")) is refused and left untouched."""
    f = scale_kernel()
    x = np.arange(16, dtype="float32")
    x.flags.writeable = False
    out = np.zeros(16, dtype="float32")
    f(x, out)
    np.testing.assert_array_equal(out, 3 * x)
    path = tmp_path / "x.bin"
    np.arange(16, dtype="float32").tofile(path)
    mapped = np.memmap(path, dtype="float32", mode="r", shape=(16,))
    out[:] = 0
    f(mapped, out)
    np.testing.assert_array_equal(out, 3 * np.arange(16, dtype="float32"))

    frozen = np.zeros(16, dtype="float32")
    frozen.flags.writeable = False
    with pytest.raises(te.TEError, match=r"argument 1 \(B\) of kernel scale.*read-only.*writeable"):
        f(np.arange(16, dtype="float32"), frozen)
    np.testing.assert_array_equal(frozen, 0)
    with pytest.raises(te.TEError, match="writeable"):
        f(np.arange(16, dtype="float32"), mapped)
    np.testing.assert_array_equal(np.fromfile(path, dtype="float32"), np.arange(16, dtype="float32"))
    with pytest.raises(te.TEError, match="writeable"):
        f.time_evaluator()(np.arange(16, dtype="float32"), np.broadcast_to(np.float32(0), (16,)))


def test_read_only_check_follows_what_the_kernel_writes():
    """The arguments refused are those the lowered kernel stores to — outputs, and an
    intermediate tensor passed as an argument — under any schedule (cache_write, parallel)."""
    A = te.placeholder((32, 32), name="A")
    P = te.compute((32, 32), lambda i, j: A[i, j] * 2.0, name="P")
    C = te.compute((32, 32), lambda i, j: P[i, j] + 1.0, name="C")
    s = te.create_schedule(C.op)
    CL = s.cache_write(C, "local")
    io, jo, ii, ji = s[C].tile(C.op.axis[0], C.op.axis[1], 8, 8)
    s[CL].compute_at(s[C], jo)
    s[C].parallel(io)
    f = te.build(s, [A, P, C], name="three")
    a = np.ones((32, 32), dtype="float32")
    a.flags.writeable = False
    p = np.zeros((32, 32), dtype="float32")
    c = np.zeros((32, 32), dtype="float32")
    f(a, p, c)
    np.testing.assert_array_equal(p, 2 * a)
    np.testing.assert_array_equal(c, 2 * a + 1)
    for slot, name in [(1, "P"), (2, "C")]:
        args = [a, p.copy(), c.copy()]
        args[slot].flags.writeable = False
        with pytest.raises(te.TEError, match=rf"argument {slot} \({name}\)"):
            f(*args)
