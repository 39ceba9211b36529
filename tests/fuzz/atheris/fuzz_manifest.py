"""libFuzzer target (through atheris, libFuzzer's Python binding) for the kernel-library
manifest reader, te.export.parse_manifest: on any bytes it returns a checked dict or raises
te.TEError, never another exception (a crash here is any other exception, a hang or a leak).

  bounded (CI, tests/python/test_manifest_fuzz.py):
      python tests/fuzz/atheris/fuzz_manifest.py -runs=20000 tests/fuzz/corpus/manifest
  long run (new inputs go to a scratch corpus, never into the repo):
      mkdir -p /tmp/manifest_corpus && python tests/fuzz/atheris/fuzz_manifest.py \
          -max_total_time=600 /tmp/manifest_corpus tests/fuzz/corpus/manifest
"""
import sys

import atheris

with atheris.instrument_imports():
    from te.export import parse_manifest, TEError


def test_one_input(data):
    try:
        manifest = parse_manifest(data)
    except TEError:
        return
    # A manifest that passes is safe for load_module's use of it.
    assert isinstance(manifest, dict)
    assert isinstance(manifest["prefix"], str) and isinstance(manifest["kernels"], list)
    for k in manifest["kernels"]:
        assert isinstance(k["symbol"], str) and isinstance(k["args"], list)


if __name__ == "__main__":
    atheris.Setup(sys.argv, test_one_input)
    atheris.Fuzz()
