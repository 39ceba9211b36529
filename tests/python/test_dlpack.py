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
