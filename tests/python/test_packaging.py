"""`pip install .` as a user runs it: scikit-build-core builds te (libte, the extension, the
autotuner's measure runner) from this source tree into a fresh target directory, and the
INSTALLED copy — imported from a directory outside the repository, with nothing of the tree on
sys.path — builds and runs kernels on NumPy data and tunes one (measuring in the installed
te_measure_runner).

This builds libte from scratch in scikit-build-core's own build directory, once per session
(a few minutes on 2 cores; CMAKE_BUILD_PARALLEL_LEVEL, default: every core). No network: the
build backend and pybind11 come from this interpreter's environment (--no-build-isolation;
scripts/setup.sh installs them in .venv). TE_SKIP_PACKAGING_TEST=1 skips it."""
import os
import pathlib
import subprocess
import sys
import textwrap

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.skipif(os.environ.get("TE_SKIP_PACKAGING_TEST") == "1",
                                reason="TE_SKIP_PACKAGING_TEST=1")


def clean_env(**extra):
    """The environment minus everything that could point Python at the source tree."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "TE_MEASURE_RUNNER"))}
    env.update(extra)
    return env


@pytest.fixture(scope="module")
def installed(tmp_path_factory):
    """pip install --target <tmp>/site <repo>; returns <tmp>/site (one build per session)."""
    for module in ("scikit_build_core", "pybind11"):
        try:
            __import__(module)
        except ImportError:
            pytest.fail(f"{module} is not installed in {sys.executable}; run scripts/setup.sh "
                        "(pip install . needs it, and this test installs without network)")
    base = tmp_path_factory.mktemp("pip_install")
    site = base / "site"
    jobs = os.environ.get("CMAKE_BUILD_PARALLEL_LEVEL") or str(os.cpu_count() or 2)
    command = [sys.executable, "-m", "pip", "install", "--no-build-isolation", "--no-deps",
               "--no-index", "--no-cache-dir", "--disable-pip-version-check",
               "--target", str(site), str(ROOT)]
    # TMPDIR: pip's and scikit-build-core's scratch space (the build tree) is removed with base.
    (base / "tmp").mkdir()
    result = subprocess.run(command, cwd=base, env=clean_env(CMAKE_BUILD_PARALLEL_LEVEL=jobs, TMPDIR=str(base / "tmp")),
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=3600)
    if result.returncode != 0:
        pytest.fail(f"pip install failed (exit {result.returncode}):\n" + result.stdout[-8000:])
    return site


def run_installed(site, code, cwd):
    """Runs `code` in a fresh interpreter that sees only the installed copy of te."""
    result = subprocess.run([sys.executable, "-c", textwrap.dedent(code)], cwd=cwd,
                            env=clean_env(PYTHONPATH=str(site), PYTHONNOUSERSITE="1"),
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=600)
    assert result.returncode == 0, result.stdout[-8000:]
    return result.stdout


def test_installed_layout(installed):
    pkg = installed / "te"
    names = {p.name for p in pkg.iterdir()}
    for expected in ["__init__.py", "__init__.pyi", "autotune.py", "autotune.pyi", "nd.py", "nd.pyi",
                     "py.typed", "libte.so", "te_measure_runner"]:
        assert expected in names, f"{expected} not installed; te/ has {sorted(names)}"
    assert any(n.startswith("_core.") and n.endswith(".so") for n in names), sorted(names)
    runner = pkg / "te_measure_runner"
    assert os.access(runner, os.X_OK), "te_measure_runner is installed without its executable bit"
    assert list(installed.glob("te-*.dist-info")), "no dist-info: pip did not record the install"


def test_installed_copy_imports_and_runs_a_kernel(installed, tmp_path):
    out = run_installed(installed, f"""
        import pathlib, sys
        import numpy as np
        import te, te.autotune
        site = pathlib.Path({str(installed)!r}).resolve()
        for module in (te, te._core, te.autotune, te.nd):
            path = pathlib.Path(module.__file__).resolve()
            assert site in path.parents, f"{{module.__name__}} imported from {{path}}, not the installed copy"
        tree = [pathlib.Path({str(ROOT)!r}) / d for d in ("", "python", "build/python")]
        assert not [p for p in sys.path if p and pathlib.Path(p).resolve() in tree], sys.path

        n = te.var("n")
        A = te.placeholder((n,), name="A")
        B = te.placeholder((n,), name="B")
        C = te.compute((n,), lambda i: A[i] * 2.0 + B[i], name="C")
        s = te.create_schedule(C.op)
        xo, xi = s[C].split(C.op.axis[0], factor=8)
        s[C].vectorize(xi)
        s[C].parallel(xo)
        f = te.build(s, [A, B, C], name="axpy")
        a = np.arange(37, dtype="float32"); b = np.ones(37, dtype="float32")
        c = np.full(37, np.nan, dtype="float32")
        f(a, b, c)
        np.testing.assert_array_equal(c, 2 * a + b)
        try:
            f(a, b, np.zeros(36, dtype="float32"))
        except te.TEError as err:
            assert "C" in str(err)
        else:
            raise AssertionError("a wrong shape was not refused")
        print("installed te OK", te.__file__)
    """, cwd=tmp_path)
    assert "installed te OK" in out


def test_installed_copy_tunes_with_its_measure_runner(installed, tmp_path):
    out = run_installed(installed, """
        import te, te.autotune as at
        A = te.placeholder((64, 64), name="A")
        B = te.compute((64, 64), lambda i, j: A[i, j] * 2.0, name="B")
        task = at.auto_task([A, B], target="llvm")
        result = at.tune(task, trials=2, log="tiny.jsonl", tuner="random", progress=False, repeat=1)
        assert result.best is not None and result.best.error_kind == "none", (result, result.best)
        print("tuned", result.best_gflops > 0)
    """, cwd=tmp_path)
    assert "tuned True" in out
