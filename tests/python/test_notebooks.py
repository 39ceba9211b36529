"""Executes the example notebooks (examples/notebooks/*.ipynb) so they can never rot: no cell
raises, each checks its kernels against NumPy, and each draws its chart (an image/png output,
as Jupyter's inline backend shows it — a notebook forcing a non-interactive backend such as
Agg would draw nothing)."""
import os
import pathlib

import pytest

import nbclient
import nbformat

ROOT = pathlib.Path(__file__).resolve().parents[2]
NOTEBOOKS = sorted((ROOT / "examples" / "notebooks").glob("*.ipynb"))


def test_notebooks_found():
    assert {p.name for p in NOTEBOOKS} >= {"01_tensor_expressions.ipynb", "02_autotune.ipynb"}


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.name for p in NOTEBOOKS])
def test_notebook_runs(path, monkeypatch):
    # The kernel starts in the notebook's folder: make PYTHONPATH absolute so it finds te.
    entries = os.environ.get("PYTHONPATH", "").split(os.pathsep)
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join(os.path.abspath(e) for e in entries if e))
    # As in Jupyter: ipykernel picks matplotlib's inline backend unless MPLBACKEND overrides it.
    monkeypatch.delenv("MPLBACKEND", raising=False)
    notebook = nbformat.read(path, as_version=4)
    client = nbclient.NotebookClient(notebook, timeout=120, kernel_name="python3",
                                     resources={"metadata": {"path": str(path.parent)}})
    client.execute()
    outputs = [o for cell in notebook.cells if cell.cell_type == "code" for o in cell.get("outputs", [])]
    assert not [o for o in outputs if o.get("output_type") == "error"]
    assert any("matches NumPy" in o.get("text", "") for o in outputs)
    images = [o for o in outputs if o.get("output_type") in ("display_data", "execute_result")
              and "image/png" in o.get("data", {})]
    assert images, f"{path.name} drew no chart (no image/png output)"
