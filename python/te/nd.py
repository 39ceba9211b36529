"""te.nd — arrays owned by te, on the CPU (64-byte aligned) or a CUDA device, exchangeable
through DLPack (zero copy, CPU and CUDA)."""
import numpy as _np

from te import _core

NDArray = _core.NDArray


def array(source, device=None):
    """A te array on `device` (default te.cpu()) holding a copy of `source` (anything
    numpy.asarray accepts)."""
    return _core._nd_array(_np.asarray(source), device)


def empty(shape, dtype="float32", device=None):
    """An uninitialized te array of `shape` and `dtype` on `device` (default te.cpu())."""
    return _core._nd_empty(shape, dtype, device)


def from_dlpack(tensor):
    """A te array sharing the memory of `tensor` (an object with __dlpack__, e.g. a PyTorch
    CPU or CUDA tensor), without a copy. The tensor must be contiguous."""
    return _core._nd_from_dlpack(tensor)
