"""A loader for te kernel libraries that needs only the Python standard library (ctypes, json)
and, for arrays, NumPy or any object with __dlpack__ (PyTorch, JAX, CuPy ...). It does not
import te: copy this file into a project that uses the exported .so + .json.

    lib = te_kernels.load("libkernels.so")      # reads libkernels.json beside it
    lib["matmul_128_768_768"](a, b, c)          # NumPy arrays or torch tensors; c is written
"""
import ctypes
import json
import os


class DLDevice(ctypes.Structure):
    _fields_ = [("device_type", ctypes.c_int32), ("device_id", ctypes.c_int32)]


class DLDataType(ctypes.Structure):
    _fields_ = [("code", ctypes.c_uint8), ("bits", ctypes.c_uint8), ("lanes", ctypes.c_uint16)]


class DLTensor(ctypes.Structure):  # dlpack.h's DLTensor, field for field
    _fields_ = [("data", ctypes.c_void_p), ("device", DLDevice), ("ndim", ctypes.c_int32),
                ("dtype", DLDataType), ("shape", ctypes.POINTER(ctypes.c_int64)),
                ("strides", ctypes.POINTER(ctypes.c_int64)), ("byte_offset", ctypes.c_uint64)]


KDL_CPU = 1
DTYPE_CODES = {"i": 0, "u": 1, "f": 2, "b": 6}  # NumPy dtype kind -> DLDataTypeCode

_capsule_pointer = ctypes.pythonapi.PyCapsule_GetPointer
_capsule_pointer.restype = ctypes.c_void_p
_capsule_pointer.argtypes = [ctypes.py_object, ctypes.c_char_p]


class KernelError(RuntimeError):
    """A kernel call that the library refused (the message says which argument and why)."""


def dltensor(obj, keep):
    """A pointer to a DLTensor viewing obj. NumPy arrays are described directly (read-only ones
    too); other objects go through their __dlpack__ capsule. `keep` holds what must outlive the call."""
    if type(obj).__module__ == "numpy" and hasattr(obj, "__array_interface__"):
        n = obj.ndim
        shape = (ctypes.c_int64 * max(n, 1))(*obj.shape)
        strides = (ctypes.c_int64 * max(n, 1))(*[s // obj.itemsize for s in obj.strides])
        t = DLTensor(obj.ctypes.data, DLDevice(KDL_CPU, 0), n,
                     DLDataType(DTYPE_CODES[obj.dtype.kind], obj.itemsize * 8, 1), shape, strides, 0)
        keep += [obj, shape, strides, t]
        return ctypes.pointer(t)
    capsule = obj.__dlpack__()
    keep.append(capsule)  # its deleter runs when Python collects it, after the call
    return ctypes.cast(_capsule_pointer(capsule, b"dltensor"), ctypes.POINTER(DLTensor))


class Kernel:
    def __init__(self, lib, info):
        self.info, self.name = info, info["name"]
        self._fn = getattr(lib, info["symbol"])
        self._fn.restype = ctypes.c_int32
        self._fn.argtypes = [ctypes.POINTER(ctypes.POINTER(DLTensor)), ctypes.c_int32]
        self._error = getattr(lib, info["symbol"] + "_last_error")
        self._error.restype = ctypes.c_char_p

    def __call__(self, *arrays):
        keep = []
        ptrs = [dltensor(a, keep) for a in arrays]
        rc = self._fn((ctypes.POINTER(DLTensor) * max(len(ptrs), 1))(*ptrs), len(ptrs))
        if rc != 0:
            raise KernelError(f"{self.name} returned {rc}: {self._error().decode()}")


class Library:
    def __init__(self, path):
        path = os.path.abspath(path)
        with open(path[:-3] + ".json" if path.endswith(".so") else path + ".json") as f:
            self.manifest = json.load(f)
        self._lib = ctypes.CDLL(path)
        # The library checks the CPU features it was built for when it is loaded (before any
        # kernel code runs); a non-NULL answer means it cannot run here.
        load_error = getattr(self._lib, self.manifest["prefix"] + "_load_error")
        load_error.restype = ctypes.c_char_p
        why = load_error()
        if why is not None:
            raise OSError(f"{path}: {why.decode()}")
        self.kernels = {k["name"]: Kernel(self._lib, k) for k in self.manifest["kernels"]}

    def __getitem__(self, name):
        return self.kernels[name]


def load(path):
    """Loads a te kernel library and its manifest; OSError when this CPU cannot run it."""
    return Library(path)
