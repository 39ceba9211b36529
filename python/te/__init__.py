"""te — a tensor-expression compiler with TVM's Python names.

    import numpy as np, te
    n = te.var("n")
    A = te.placeholder((n,), name="A"); B = te.placeholder((n,), name="B")
    C = te.compute((n,), lambda i: A[i] + B[i], name="C")
    s = te.create_schedule(C.op)
    f = te.build(s, [A, B, C])
    f(a, b, c)                      # NumPy arrays, te.nd arrays or __dlpack__ objects

Semantics of Python operators on expressions (TVM's Python convention):
``//`` is floor division, ``%`` on integers is floor modulo, ``/`` on two integers raises
TEError (ambiguous: use ``//`` or te.truncdiv), ``**`` is te.power, comparisons build boolean
expressions; ``and``/``or``/``not``/``if`` cannot be overloaded: use te.all, te.any,
te.if_then_else, te.select or ``&``, ``|``, ``~``.
"""
import builtins as _builtins
import operator as _operator
import inspect as _inspect
import pkgutil as _pkgutil

# In-tree development: the compiled _core lives in <build>/python/te while the .py files are
# in python/te; with both on PYTHONPATH this makes them one package.
__path__ = _pkgutil.extend_path(__path__, __name__)

# The JIT defines te's runtime entries (te_parallel_for, ...) by address, so _core and libte
# load with Python's default (RTLD_LOCAL) flags like any extension.
from te import _core  # noqa: E402
from te._core import (  # noqa: E402,F401
    TEError, TEInternalError,
    Expr, Var, IterVar, Range, Tensor, Operation, Stage, Schedule, CommReducer,
    NDArray, Module, LoweredFunc, TimeResult,
    var, const, placeholder, reduce_axis, thread_axis, fma, if_then_else, select, cast,
    max_value, min_value, create_schedule, lower,
)
from te import nd  # noqa: E402,F401
from te.export import export_library, export_tuning_log, load_module  # noqa: E402,F401

TEError.__module__ = "te"
TEInternalError.__module__ = "te"

__all__ = [
    "TEError", "TEInternalError", "Expr", "Var", "IterVar", "Range", "Tensor", "Operation",
    "Stage", "Schedule", "CommReducer", "NDArray", "Module", "LoweredFunc", "TimeResult",
    "var", "const", "placeholder", "compute", "reduce_axis", "thread_axis", "sum", "max",
    "min", "prod", "comm_reducer", "exp", "log", "sqrt", "rsqrt", "tanh", "sigmoid", "erf",
    "power", "abs", "floor", "ceil", "round", "fma", "if_then_else", "select", "cast", "all",
    "any", "max_value", "min_value", "floordiv", "floormod", "truncdiv", "truncmod",
    "create_schedule", "lower", "build", "cpu", "cuda", "Device", "nd", "replay",
    "export_library", "export_tuning_log", "load_module",
]


class Device:
    """A device handle: te.cpu() or te.cuda(i). te.nd arrays live on one; a kernel built for
    target "cuda" runs on the CUDA device its arrays live on."""

    def __init__(self, device_type="cpu", index=0):
        if device_type not in ("cpu", "cuda"):
            raise _core.TEError(f"te.Device: device type {device_type!r} is not supported; expected 'cpu' or 'cuda'")
        try:
            valid = _operator.index(index) >= 0
        except TypeError:
            valid = False
        if not valid:
            raise _core.TEError(f"te.Device: index must be a non-negative int, got {index!r}")
        index = _operator.index(index)
        self.device_type = device_type
        self.index = index

    @property
    def exist(self):
        """True when the device is present (the CPU always; cuda(i) when the CUDA driver reports it)."""
        return self.device_type == "cpu" or self.index < _core._cuda_device_count()

    @property
    def name(self):
        """The device's name ("cpu", or the GPU's name such as "NVIDIA H100 80GB HBM3")."""
        return "cpu" if self.device_type == "cpu" else _core._cuda_device_name(self.index)

    def __eq__(self, other):
        return isinstance(other, Device) and (self.device_type, self.index) == (other.device_type, other.index)

    def __hash__(self):
        return hash((self.device_type, self.index))

    def __repr__(self):
        return f"{self.device_type}({self.index})"


def cpu(index=0):
    """The CPU device."""
    return Device("cpu", index)


def cuda(index=0):
    """CUDA device `index` (te.cuda(0).exist says whether it is present)."""
    return Device("cuda", index)


def _axis_names(fcompute, ndim, name):
    """The lambda's parameter names (TVM names the axes after them), or i0, i1, ..."""
    try:
        params = list(_inspect.signature(fcompute).parameters.values())
    except (TypeError, ValueError):
        return [f"i{d}" for d in range(ndim)]
    if _builtins.any(p.kind == p.VAR_POSITIONAL for p in params):
        return [f"i{d}" for d in range(ndim)]
    positional = [p for p in params if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    required = [p for p in positional if p.default is p.empty]
    if not (len(required) <= ndim <= len(positional)):
        raise TEError(f"te.compute {name}: the function takes {len(positional)} arguments "
                      f"but the shape has {ndim} dimensions; give one parameter per dimension")
    return [p.name for p in positional[:ndim]]


def compute(shape, fcompute, name="compute", tag=""):
    """A tensor of `shape` whose element at (i, j, ...) is fcompute(i, j, ...).

    The axes are named after the function's parameters. Returning a tuple gives several
    outputs (a list of tensors) that share one loop nest.
    """
    if not callable(fcompute):
        raise TEError(f"te.compute {name}: fcompute must be a function of the indices, got {type(fcompute).__name__}")
    if isinstance(shape, (int, Expr)):
        shape = (shape,)
    if not isinstance(shape, (tuple, list)):
        raise TEError(f"te.compute {name}: shape must be a tuple of ints or te.var, got {type(shape).__name__}")
    outputs = _core._compute(tuple(shape), fcompute, _axis_names(fcompute, len(shape), name), name, tag)
    return outputs[0] if len(outputs) == 1 else outputs


def _make_reduction(kind, binary):
    def reduction(expr, axis=None, where=None, *args):
        if axis is None:
            raise TEError(f"te.{kind}: give the reduction axis, e.g. te.{kind}(A[i, k], axis=k)")
        if isinstance(axis, (Expr, int, float)) and not isinstance(axis, bool):
            if where is not None:
                raise TEError(f"te.{kind}(a, b) of two expressions takes no where=")
            return binary(expr, axis)  # te.max(a, b): element-wise, as in TVM
        return _core._reduce(kind, expr, axis, where)
    reduction.__name__ = kind
    reduction.__doc__ = (f"te.{kind}(expr, axis=k or [k1, k2], where=cond): the {kind} of expr over the "
                         f"reduction axes (only where cond holds). te.{kind}(a, b) combines two expressions.")
    return reduction


sum = _make_reduction("sum", lambda a, b: _core._binary("add", a, b))  # noqa: A001
max = _make_reduction("max", lambda a, b: _core._binary("max", a, b))  # noqa: A001
min = _make_reduction("min", lambda a, b: _core._binary("min", a, b))  # noqa: A001
prod = _make_reduction("prod", lambda a, b: _core._binary("mul", a, b))


def comm_reducer(fcombine, fidentity, name="reduce"):
    """A commutative reducer, as tvm.te.comm_reducer.

    fcombine(x, y) combines the accumulated value(s) x with the new value(s) y (tuples for
    multi-valued reducers such as argmax); fidentity(*dtypes) returns the identity value(s).
    The result is called as reducer(expr or tuple, axis=k, where=None).
    """
    return CommReducer(fcombine, fidentity, name)


def _unary(op, doc):
    def fn(x):
        return _core._unary(op, x)
    fn.__name__ = op
    fn.__doc__ = doc
    return fn


exp = _unary("exp", "e ** x")
log = _unary("log", "natural logarithm")
sqrt = _unary("sqrt", "square root")
rsqrt = _unary("rsqrt", "1 / sqrt(x)")
tanh = _unary("tanh", "hyperbolic tangent")
sigmoid = _unary("sigmoid", "1 / (1 + exp(-x))")
erf = _unary("erf", "the error function")
abs = _unary("abs", "absolute value (ints too)")  # noqa: A001
floor = _unary("floor", "round towards -inf")
ceil = _unary("ceil", "round towards +inf")
round = _unary("round", "round half away from zero")  # noqa: A001


def power(x, y):
    """x ** y"""
    return _core._binary("power", x, y)


def floordiv(a, b):
    """Integer division rounding towards -inf (Python's //)."""
    return _core._binary("floordiv", a, b)


def floormod(a, b):
    """Integer remainder with the sign of b (Python's %)."""
    return _core._binary("floormod", a, b)


def truncdiv(a, b):
    """Integer division rounding towards zero (C's /)."""
    return _core._binary("truncdiv", a, b)


def truncmod(a, b):
    """Integer remainder with the sign of a (C's %)."""
    return _core._binary("truncmod", a, b)


def all(*conds):  # noqa: A001
    """Logical and of the conditions (te.all(a, b, c) or te.all([a, b]))."""
    if len(conds) == 1 and isinstance(conds[0], (list, tuple)):
        conds = tuple(conds[0])
    return _core._all(*conds)


def any(*conds):  # noqa: A001
    """Logical or of the conditions."""
    if len(conds) == 1 and isinstance(conds[0], (list, tuple)):
        conds = tuple(conds[0])
    return _core._any(*conds)


def _module_time_evaluator(self, func_name=None, dev=None, number=1, repeat=3, min_repeat_ms=0):
    """A function f(*arrays) -> TimeResult: one warm-up call, then `repeat` measurements of
    `number` calls each (more calls when a measurement is shorter than min_repeat_ms)."""
    def evaluate(*args):
        return self._time(int(number), int(repeat), float(min_repeat_ms), *args)
    return evaluate


Module.time_evaluator = _module_time_evaluator


def build(sch, args, target="llvm", name="default_function"):
    """Lowers and compiles `sch` for `target` ("llvm", "llvm -mcpu=...", "cuda",
    "cuda -arch=sm_90 -use_fast_math -Xnvrtc=<flag>"); returns a callable Module taking one
    array per tensor in `args` (outputs written in place). A cuda Module takes arrays that all
    live on one CUDA device (used in place) or all on the CPU (copied in and out)."""
    return _core.build(sch, args, target, name)


def replay(ops, steps_json):
    """A fresh schedule of `ops` with the steps of another schedule (s.steps_json()) applied."""
    return _core._replay(ops, steps_json)
