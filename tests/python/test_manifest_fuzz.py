"""The kernel-library manifest reader (te.export.parse_manifest) on crafted and fuzzed input:
a manifest is data, so anything malformed is a te.TEError, never another exception. The
fuzzing is libFuzzer through atheris (tests/fuzz/atheris/fuzz_manifest.py, corpus in
tests/fuzz/corpus/manifest); a longer run is one command, in RELIABILITY.md."""
import json
import os
import pathlib
import subprocess
import sys

import pytest

import te
from te.export import parse_manifest

ROOT = pathlib.Path(__file__).resolve().parents[2]
CORPUS = ROOT / "tests" / "fuzz" / "corpus" / "manifest"


def good():
    return json.loads((CORPUS / "symbolic_scale.json").read_text())


def test_the_seed_manifest_parses():
    m = parse_manifest((CORPUS / "symbolic_scale.json").read_bytes())
    assert m["kernels"][0]["symbol"] == "double_it"


def mutate(path, value):
    m = good()
    node = m
    for key in path[:-1]:
        node = node[key]
    node[path[-1]] = value
    return json.dumps(m)


@pytest.mark.parametrize("data, message", [
    (b"\xff\xfe{", "not UTF-8"),
    (b"{", "not JSON"),
    (b"[" * 100000, "nested too deeply"),
    (b"[]", "expected a JSON object"),
    (b'{"format": "something-else"}', "not a te kernel-library manifest"),
    (b'{"format": "te-kernel-library", "format_version": 2}', "format_version 2"),
    (mutate(["prefix"], "os.system"), "prefix must be a C identifier"),
    (mutate(["prefix"], "x; rm -rf /"), "prefix must be a C identifier"),
    (mutate(["prefix"], 7), "prefix must be a C identifier"),
    (mutate(["cpu"], []), "cpu must be an object"),
    (mutate(["cpu", "features"], "avx512f"), "cpu.features must be a list of strings"),
    (mutate(["kernels"], {}), "kernels must be a list"),
    (mutate(["kernels", 0, "symbol"], "printf@plt"), "symbol must be a C identifier"),
    (mutate(["kernels", 0, "symbol"], "a" * 300), "symbol must be a C identifier"),
    (mutate(["kernels", 0, "name"], None), "name must be a string"),
    (mutate(["kernels", 0, "args"], None), "args must be a list"),
    (mutate(["kernels", 0, "args", 0, "role"], "both"), "role must be"),
    (mutate(["kernels", 0, "args", 0], 3), "must be an object"),
    (mutate(["kernels", 0, "workload_key"], 3), "workload_key must be a string"),
])
def test_crafted_manifests_are_te_errors(data, message):
    with pytest.raises(te.TEError, match=message):
        parse_manifest(data)


def test_load_module_refuses_a_crafted_manifest_before_loading(tmp_path):
    lib = tmp_path / "libevil.so"
    lib.write_bytes(b"not a shared library")
    (tmp_path / "libevil.json").write_text(mutate(["prefix"], "../../etc"))
    with pytest.raises(te.TEError, match="prefix must be a C identifier"):
        te.load_module(lib)


def test_bounded_libfuzzer_run_of_the_manifest_reader(tmp_path):
    import atheris  # noqa: F401  (installed by scripts/setup.sh; a missing one is a failure, not a skip)
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(sys.path))
    run = subprocess.run([sys.executable, str(ROOT / "tests" / "fuzz" / "atheris" / "fuzz_manifest.py"),
                          "-max_total_time=20", "-rss_limit_mb=2048", f"-artifact_prefix={tmp_path}/",
                          str(tmp_path), str(CORPUS)], capture_output=True, text=True, env=env, timeout=300)
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    assert "Done" in run.stderr
