"""Kernel libraries: export built kernels into one shared library with a C header and a JSON
manifest beside it, and load such a library back as Python callables (te.load_module).

The library needs only libc/libm/libgomp, never te: examples/export/ shows it used from plain
ctypes + NumPy, from PyTorch (torch.library custom op) and from C++.
"""
import collections
import ctypes
import json
import os
import platform
import re

import numpy as np

from te import _core
from te._core import TEError

ExportedLibrary = collections.namedtuple("ExportedLibrary", ["library", "header", "manifest", "kernels"])
ExportedLibrary.__doc__ = "The files export_library wrote: library, header, manifest paths and the kernel names."


def export_library(funcs, path, prefix=None):
    """Writes the built kernels `funcs` (te.Module objects from te.build, CPU targets) into one
    shared library `path` (ending in .so), with its C header (.h) and JSON manifest (.json) beside
    it. Each kernel keeps its name as its C symbol: int32_t NAME(DLTensor** args, int32_t n).
    `prefix` names the library's own C functions (PREFIX_load_error, PREFIX_last_error,
    PREFIX_manifest); default: the file name without "lib" and ".so". Returns an ExportedLibrary."""
    if isinstance(funcs, _core.Module):
        funcs = [funcs]
    funcs = list(funcs)
    for i, f in enumerate(funcs):
        if not isinstance(f, _core.Module):
            raise TEError(f"export_library: item {i} is a {type(f).__name__}, expected a te.Module from te.build")
    return ExportedLibrary(*_core._export.export_library(funcs, os.fspath(path), prefix or ""))


def export_tuning_log(log, path, ops=None, target="llvm", prefix=None):
    """Exports the best record of each operator workload in the tuning log `log` (rebuilt
    through its template with the recorded schedule) into one library `path`, as
    `autotune export --log LOG -o PATH` does; `ops` restricts it to these operator names.
    The manifest records each kernel's workload key and tuning record. Returns an ExportedLibrary."""
    if isinstance(ops, str):
        ops = [ops]
    return ExportedLibrary(*_core._export.export_tuning_log(os.fspath(log), os.fspath(path), list(ops or []),
                                                           target, prefix or ""))


def host_cpu_features():
    """The enabled features of this machine's CPU, as LLVM (and manifests) name them."""
    return _core._export.host_cpu_features()


# ---------------------------------------------------------------- loading (ctypes over DLPack)

class _DLDevice(ctypes.Structure):
    _fields_ = [("device_type", ctypes.c_int32), ("device_id", ctypes.c_int32)]


class _DLDataType(ctypes.Structure):
    _fields_ = [("code", ctypes.c_uint8), ("bits", ctypes.c_uint8), ("lanes", ctypes.c_uint16)]


class _DLTensor(ctypes.Structure):
    _fields_ = [("data", ctypes.c_void_p), ("device", _DLDevice), ("ndim", ctypes.c_int32),
                ("dtype", _DLDataType), ("shape", ctypes.POINTER(ctypes.c_int64)),
                ("strides", ctypes.POINTER(ctypes.c_int64)), ("byte_offset", ctypes.c_uint64)]


_DTYPE_CODES = {"i": 0, "u": 1, "f": 2, "b": 6}  # kDLInt, kDLUInt, kDLFloat, kDLBool
_capsule_pointer = ctypes.pythonapi.PyCapsule_GetPointer
_capsule_pointer.restype = ctypes.c_void_p
_capsule_pointer.argtypes = [ctypes.py_object, ctypes.c_char_p]


def _tensor_of(obj, arg, kernel, keep):
    """A DLTensor for one argument: NumPy arrays directly, anything else through __dlpack__."""
    if isinstance(obj, np.ndarray):
        if arg["role"] == "output" and not obj.flags.writeable:
            raise TEError(f"argument {arg['name']} of kernel {kernel} is an output but the array is read-only; "
                          "pass a writeable array")
        if obj.dtype.kind not in _DTYPE_CODES:
            raise TEError(f"argument {arg['name']} of kernel {kernel}: NumPy dtype {obj.dtype} has no DLPack "
                          f"equivalent; expected {arg['dtype']}")
        shape = (ctypes.c_int64 * max(obj.ndim, 1))(*obj.shape)
        strides = (ctypes.c_int64 * max(obj.ndim, 1))(*[s // obj.itemsize for s in obj.strides])
        t = _DLTensor(obj.ctypes.data, _DLDevice(1, 0), obj.ndim,
                      _DLDataType(_DTYPE_CODES[obj.dtype.kind], obj.itemsize * 8, 1), shape, strides, 0)
        keep += [obj, shape, strides, t]
        return ctypes.pointer(t)
    if hasattr(obj, "__dlpack__"):
        capsule = obj.__dlpack__()
        keep.append(capsule)  # the producer's deleter runs when the capsule is collected, after the call
        # DLManagedTensor starts with its DLTensor.
        return ctypes.cast(_capsule_pointer(capsule, b"dltensor"), ctypes.POINTER(_DLTensor))
    raise TEError(f"argument {arg['name']} of kernel {kernel}: expected a NumPy array or an object with "
                  f"__dlpack__ (e.g. a torch tensor), got {type(obj).__name__}")


class LoadedKernel:
    """One kernel of a loaded library: call it with one array per argument (NumPy arrays or any
    __dlpack__ object, CPU, compact row-major); outputs are written in place. A wrong call
    raises te.TEError with the library's message."""

    def __init__(self, lib, entry):
        self._entry = getattr(lib, entry["symbol"])
        self._entry.restype = ctypes.c_int32
        self._entry.argtypes = [ctypes.POINTER(ctypes.POINTER(_DLTensor)), ctypes.c_int32]
        self._last_error = getattr(lib, entry["symbol"] + "_last_error")
        self._last_error.restype = ctypes.c_char_p
        self.info = entry
        self.name = entry["name"]
        self.__doc__ = f"{self.name}({', '.join(a['name'] for a in entry['args'])})"

    @property
    def args(self):
        """The manifest's argument list: name, dtype, shape (symbolic sizes by name), role."""
        return self.info["args"]

    @property
    def workload_key(self):
        """The workload key of the tuning record this kernel came from (None if not from a log)."""
        return self.info.get("workload_key")

    def __call__(self, *arrays):
        keep = []
        args = self.info["args"]
        pointers = [_tensor_of(a, args[i], self.name, keep) if i < len(args) else None
                    for i, a in enumerate(arrays)]
        array = (ctypes.POINTER(_DLTensor) * max(len(pointers), 1))(*pointers)
        rc = self._entry(array, len(pointers))
        if rc != 0:
            raise TEError(self._last_error().decode(errors="replace"))

    def __repr__(self):
        return f"LoadedKernel({self.__doc__})"


class KernelLibrary:
    """A loaded kernel library (te.load_module): kernels by attribute or ["name"], the manifest
    as a dict. The library stays loaded while this object lives."""

    def __init__(self, path, manifest, lib):
        self.path = path
        self.manifest = manifest
        self._lib = lib
        self.kernels = {k["name"]: LoadedKernel(lib, k) for k in manifest["kernels"]}

    def __getitem__(self, name):
        try:
            return self.kernels[name]
        except KeyError:
            raise TEError(f"the library {self.path} has no kernel {name!r}; it has {sorted(self.kernels)}") from None

    def __getattr__(self, name):
        if name.startswith("_") or "kernels" not in self.__dict__:
            raise AttributeError(name)
        return self[name]

    def __dir__(self):
        return sorted(set(super().__dir__()) | set(self.kernels))

    def __repr__(self):
        return f"KernelLibrary({self.path!r}, kernels={sorted(self.kernels)})"


_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,254}")


def _manifest_error(where, what):
    return TEError(f"load_module: {where}: {what}; the manifest is not one te wrote (te.export_library or "
                   "autotune export), or it was edited")


def parse_manifest(data, where="manifest"):
    """Parses and checks a kernel-library manifest (bytes or str) and returns it as a dict.
    A manifest is data: anything that is not a well-formed version-1 manifest, whatever its
    bytes, raises te.TEError (never another exception); fuzzed by tests/fuzz/atheris/fuzz_manifest.py."""
    if isinstance(data, (bytes, bytearray)):
        try:
            data = bytes(data).decode("utf-8")
        except UnicodeDecodeError as e:
            raise _manifest_error(where, f"not UTF-8 text ({e.reason} at byte {e.start})") from None
    try:
        manifest = json.loads(data)
    except RecursionError:
        raise _manifest_error(where, "JSON nested too deeply") from None
    except ValueError as e:
        raise _manifest_error(where, f"not JSON ({e})") from None
    if not isinstance(manifest, dict):
        raise _manifest_error(where, f"expected a JSON object, got {type(manifest).__name__}")
    if manifest.get("format") != "te-kernel-library":
        raise TEError(f"load_module: {where} is not a te kernel-library manifest")
    if manifest.get("format_version") != 1:
        raise TEError(f"load_module: {where} has manifest format_version {manifest.get('format_version')!r}; "
                      "this te reads version 1")

    def identifier(value, what):
        if not isinstance(value, str) or not _IDENTIFIER.fullmatch(value):
            raise _manifest_error(where, f"{what} must be a C identifier, got {value!r:.80}")

    def text(value, what, optional=False):
        if optional and value is None:
            return
        if not isinstance(value, str):
            raise _manifest_error(where, f"{what} must be a string, got {type(value).__name__}")

    identifier(manifest.get("prefix"), "prefix")
    cpu = manifest.get("cpu", {})
    if not isinstance(cpu, dict):
        raise _manifest_error(where, f"cpu must be an object, got {type(cpu).__name__}")
    text(cpu.get("triple", ""), "cpu.triple")
    text(cpu.get("name", ""), "cpu.name")
    features = cpu.get("features", [])
    if not isinstance(features, list) or not all(isinstance(f, str) for f in features):
        raise _manifest_error(where, "cpu.features must be a list of strings")
    kernels = manifest.get("kernels")
    if not isinstance(kernels, list):
        raise _manifest_error(where, "kernels must be a list")
    names = set()
    for i, k in enumerate(kernels):
        if not isinstance(k, dict):
            raise _manifest_error(where, f"kernels[{i}] must be an object")
        identifier(k.get("symbol"), f"kernels[{i}].symbol")
        text(k.get("name"), f"kernels[{i}].name")
        if k["name"] in names:
            raise _manifest_error(where, f"kernel {k['name']!r:.80} appears twice")
        names.add(k["name"])
        text(k.get("workload_key"), f"kernels[{i}].workload_key", optional=True)
        args = k.get("args")
        if not isinstance(args, list):
            raise _manifest_error(where, f"kernels[{i}].args must be a list")
        for j, a in enumerate(args):
            if not isinstance(a, dict):
                raise _manifest_error(where, f"kernels[{i}].args[{j}] must be an object")
            text(a.get("name"), f"kernels[{i}].args[{j}].name")
            text(a.get("dtype"), f"kernels[{i}].args[{j}].dtype")
            if a.get("role") not in ("input", "output"):
                raise _manifest_error(where, f"kernels[{i}].args[{j}].role must be \"input\" or \"output\"")
    return manifest


def read_manifest(path):
    """The manifest (dict) of the library at `path`, read from the .json beside it and checked
    (parse_manifest): a malformed one raises te.TEError."""
    path = os.fspath(path)
    manifest_path = (path[:-3] if path.endswith(".so") else path) + ".json"
    if not os.path.exists(manifest_path):
        raise TEError(f"load_module: no manifest {manifest_path} beside {path}; a te kernel library is "
                      "written with it (te.export_library or autotune export)")
    with open(manifest_path, "rb") as f:
        return parse_manifest(f.read(), manifest_path)


def load_module(path):
    """Loads a kernel library written by te.export_library / `autotune export`: reads the
    manifest beside it, refuses (te.TEError) a library built for CPU features or an architecture
    this machine lacks before any of its code runs, and returns a KernelLibrary of callables."""
    path = os.fspath(path)
    if not os.path.exists(path):
        raise TEError(f"load_module: {path} does not exist")
    manifest = read_manifest(path)
    cpu = manifest.get("cpu", {})
    arch = cpu.get("triple", "").split("-")[0]
    if arch and arch != platform.machine():
        raise TEError(f"load_module: {path} was built for {arch}, this machine is {platform.machine()}")
    missing = sorted(set(cpu.get("features", [])) - set(host_cpu_features()))
    if missing:
        raise TEError(f"load_module: {path} was built for CPU {cpu.get('name')} and needs CPU features this machine "
                      f"lacks: {' '.join(missing)}; export it again for this CPU (target \"llvm\") or a common one "
                      "(e.g. \"llvm -mcpu=x86-64-v3\")")
    lib = ctypes.CDLL(os.path.abspath(path))
    load_error = getattr(lib, manifest["prefix"] + "_load_error")
    load_error.restype = ctypes.c_char_p
    why = load_error()
    if why is not None:
        raise TEError(f"load_module: {path}: {why.decode(errors='replace')}")
    return KernelLibrary(path, manifest, lib)
