"""Discoverability: every public name of te (te.__all__, te.autotune.__all__, and the public
methods and properties of the classes users hold) has a docstring that says more than the
signature pybind11 generates, and every public name is in the type stubs editors read."""
import ast
import inspect
import pathlib
import re

import pytest

import te
import te.autotune as at
import te.ops

STUBS = pathlib.Path(te.__file__).resolve().parent
if not (STUBS / "__init__.pyi").exists():  # in-tree build: te.__file__ may be the build copy
    STUBS = pathlib.Path(__file__).resolve().parents[2] / "python" / "te"

CLASSES = [te.Expr, te.Var, te.Tensor, te.Operation, te.Stage, te.Schedule, te.IterVar, te.Range,
           te.Module, te.NDArray, te.LoweredFunc, te.TimeResult, te.CommReducer, te.Device]

# pybind11 starts a docstring with the signature ("name(self: te._core.X, ...) -> R", or for a
# property's getter "(self: ...) -> R"); that alone documents nothing.
SIGNATURE = re.compile(r"^\s*\w*\(.*\)(\s*->\s*.+)?\s*$")


def doc_text(obj):
    lines = (getattr(obj, "__doc__", None) or "").strip().splitlines()
    return "\n".join(line for line in lines
                     if not SIGNATURE.match(line) and line.strip() != "Overloaded function.").strip()


def public_members(cls):
    """(qualified name, object) of the public methods and properties cls defines."""
    for attr in sorted(dir(cls)):
        if attr.startswith("_"):
            continue
        value = inspect.getattr_static(cls, attr)
        if callable(value) or isinstance(value, property) or type(value).__name__ == "property":
            yield f"{cls.__name__}.{attr}", value


def public_names():
    names = [(f"te.{n}", getattr(te, n)) for n in te.__all__ if n != "nd"]
    names += [(f"te.autotune.{n}", getattr(at, n)) for n in at.__all__]
    names += [(f"te.ops.{n}", getattr(te.ops, n)) for n in te.ops.__all__ if not n.isupper()]  # constants aside
    for cls in CLASSES:
        names += [(f"te.{q}", v) for q, v in public_members(cls)]
    for name in at.__all__:
        obj = getattr(at, name)
        if inspect.isclass(obj):
            names += [(f"te.autotune.{q}", v) for q, v in public_members(obj)]
    return names


NAMES = public_names()


def test_walk_covers_the_api():
    qualified = {q for q, _ in NAMES}
    for expected in ["te.cast", "te.TEError", "te.TEInternalError", "te.Stage.vectorize", "te.Stage.unroll",
                     "te.Stage.parallel", "te.Stage.bind", "te.Stage.pragma", "te.Stage.compute_at",
                     "te.Stage.compute_inline", "te.Stage.compute_root", "te.Schedule.cache_read",
                     "te.Schedule.cache_write", "te.Schedule.rfactor", "te.NDArray.copyfrom",
                     "te.Module.save_object", "te.Expr.same_as", "te.Expr.dtype", "te.Tensor.shape",
                     "te.IterVar.var", "te.Module.time_evaluator"]:
        assert expected in qualified
    assert len(NAMES) > 150


@pytest.mark.parametrize("qualified,obj", NAMES, ids=[q for q, _ in NAMES])
def test_public_name_has_docstring(qualified, obj):
    assert doc_text(obj), f"{qualified} has no docstring (beyond its signature)"


def test_te_nd_documented():
    assert doc_text(te.ops)
    assert doc_text(te.nd)
    for name in ("array", "empty"):
        assert doc_text(getattr(te.nd, name)), f"te.nd.{name}"


def stub_names(path):
    """Top-level names a stub file defines, and {class name: its member names}."""
    tree = ast.parse(path.read_text(), filename=str(path))
    names, members = set(), {}
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.ClassDef)):
            names.add(node.name)
        elif isinstance(node, ast.Assign):
            names.update(t.id for t in node.targets if isinstance(t, ast.Name))
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            names.add(node.target.id)
        elif isinstance(node, (ast.ImportFrom, ast.Import)):
            names.update(a.asname or a.name for a in node.names)
        if isinstance(node, ast.ClassDef):
            body = set()
            for item in node.body:
                if isinstance(item, ast.FunctionDef):
                    body.add(item.name)
                elif isinstance(item, ast.AnnAssign) and isinstance(item.target, ast.Name):
                    body.add(item.target.id)
                elif isinstance(item, ast.Assign):
                    body.update(t.id for t in item.targets if isinstance(t, ast.Name))
            # A stub class also has what its stub base classes declare (Var(Expr)).
            for base in node.bases:
                if isinstance(base, ast.Name) and base.id in members:
                    body |= members[base.id]
            members[node.name] = body
    return names, members


@pytest.mark.parametrize("module,stub", [(te, "__init__.pyi"), (at, "autotune.pyi"), (te.ops, "ops.pyi")],
                         ids=["te", "te.autotune", "te.ops"])
def test_every_public_name_is_in_the_stubs(module, stub):
    names, members = stub_names(STUBS / stub)
    missing = [n for n in module.__all__ if n not in names]
    assert not missing, f"{stub} lacks {missing}"
    # The classes' public methods and properties too, so editors complete them.
    absent = []
    for n in module.__all__:
        obj = getattr(module, n)
        if inspect.isclass(obj) and n in members and not issubclass(obj, BaseException):
            absent += [q for q, _ in public_members(obj) if q.split(".", 1)[1] not in members[n]]
    assert not absent, f"{stub} lacks {absent}"
