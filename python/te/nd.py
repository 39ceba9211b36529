"""te.nd — arrays owned by te (CPU, 64-byte aligned), exchangeable through DLPack."""
import numpy as _np

from te import _core

NDArray = _core.NDArray


def array(source, device=None):
    """A te array holding a copy of `source` (anything numpy.asarray accepts)."""
    if device is not None and getattr(device, "device_type", "cpu") != "cpu":
        raise _core.TEError(f"te.nd.array: device {device!r} is not supported; te arrays live on te.cpu()")
    return _core._nd_array(_np.asarray(source))


def empty(shape, dtype="float32", device=None):
    """An uninitialized te array of `shape` and `dtype`."""
    if device is not None and getattr(device, "device_type", "cpu") != "cpu":
        raise _core.TEError(f"te.nd.empty: device {device!r} is not supported; te arrays live on te.cpu()")
    return _core._nd_empty(shape, dtype)
