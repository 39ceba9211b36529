"""Kernel libraries: te.export_library -> te.load_module round trips with symbolic shapes, the
errors a wrong call raises, the refusal of a library built for CPU features this machine
lacks, and the path a framework without te takes: `autotune export` of the committed ResNet-18
conv log and of the fused conv2d+bias+relu log, then the pure-ctypes NumPy example, the C++ consumer (built here with only the
generated header and dlpack.h) and the PyTorch example (where torch is installed)."""
import json
import os
import pathlib
import subprocess
import sys

import numpy as np
import pytest

import te
from conftest import nan_like

ROOT = pathlib.Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples" / "export"
BUILD = pathlib.Path(te._core.__file__).resolve().parents[2]


def symbolic_kernels(target="llvm"):
    n = te.var("n")
    a = te.placeholder((n, 8), name="A")
    b = te.placeholder((8,), name="B")
    c = te.compute((n, 8), lambda i, j: a[i, j] * b[j] + 1.0, name="C")
    s = te.create_schedule(c.op)
    s[c].parallel(c.op.axis[0])
    f1 = te.build(s, [a, b, c], target=target, name="scale_rows")
    m = te.var("m")
    x = te.placeholder((m, 32), name="X")
    y = te.placeholder((32, 16), name="Y")
    k = te.reduce_axis((0, 32), name="k")
    z = te.compute((m, 16), lambda i, j: te.sum(x[i, k] * y[k, j], axis=k), name="Z")
    s2 = te.create_schedule(z.op)
    s2[z].vectorize(z.op.axis[1])
    f2 = te.build(s2, [x, y, z], target=target, name="mm16")
    return f1, f2


def test_export_then_load_round_trip_with_symbolic_shapes(tmp_path, rng):
    out = te.export_library(list(symbolic_kernels()), tmp_path / "libmine.so")
    assert out.kernels == ["scale_rows", "mm16"]
    assert pathlib.Path(out.header).exists() and pathlib.Path(out.manifest).exists()
    lib = te.load_module(out.library)
    assert sorted(lib.kernels) == ["mm16", "scale_rows"]
    assert lib.scale_rows.args[0]["shape"] == ["n", 8]
    assert lib.manifest["kernels"][1]["size_vars"] == ["m"]
    for n in (1, 5, 129):
        a = rng.uniform(-1, 1, (n, 8)).astype("float32")
        b = rng.uniform(-1, 1, 8).astype("float32")
        c = nan_like((n, 8))
        lib.scale_rows(a, b, c)
        # te contracts a*b+1 into one fused multiply-add (one rounding, NumPy rounds twice): where
        # a*b is near -1 the sum cancels and the relative difference grows, so an absolute bound.
        np.testing.assert_allclose(c, a * b + 1, rtol=1e-6, atol=1e-6)
        x = rng.uniform(-1, 1, (n, 32)).astype("float32")
        y = rng.uniform(-1, 1, (32, 16)).astype("float32")
        z = nan_like((n, 16))
        lib["mm16"](x, y, z)
        np.testing.assert_allclose(z, x @ y, rtol=1e-5, atol=1e-5)


def test_wrong_calls_raise_with_the_librarys_message(tmp_path):
    lib = te.load_module(te.export_library(symbolic_kernels()[0], tmp_path / "libone.so").library)
    a, b, c = np.zeros((4, 8), "float32"), np.zeros(8, "float32"), np.zeros((4, 8), "float32")
    with pytest.raises(te.TEError, match=r"expected 3 arguments, got 2"):
        lib.scale_rows(a, b)
    with pytest.raises(te.TEError, match=r"argument 1 \(B\) of kernel scale_rows: expected dtype float32"):
        lib.scale_rows(a, b.astype("float64"), c)
    with pytest.raises(te.TEError, match=r"expected shape \[n, 8\] with n = 4"):
        lib.scale_rows(a, b, np.zeros((5, 8), "float32"))
    with pytest.raises(te.TEError, match=r"expected 2 dimensions"):
        lib.scale_rows(a[None], b, c)
    with pytest.raises(te.TEError, match=r"compact row-major"):
        lib.scale_rows(np.zeros((8, 4), "float32").T, b, c)
    readonly = np.zeros((4, 8), "float32")
    readonly.flags.writeable = False
    with pytest.raises(te.TEError, match=r"output but the array is read-only"):
        lib.scale_rows(a, b, readonly)
    with pytest.raises(te.TEError, match=r"has no kernel 'nope'"):
        lib["nope"]
    with pytest.raises(te.TEError, match=r"expected a te.Module"):
        te.export_library(["not a module"], tmp_path / "libbad.so")
    (tmp_path / "libx.so").write_bytes(b"")
    with pytest.raises(te.TEError, match=r"no manifest"):
        te.load_module(tmp_path / "libx.so")


def missing_feature():
    host = set(te.export.host_cpu_features())
    for f in ("avx512vp2intersect", "amx-fp16", "avxifma", "avxvnniint8", "sha512", "sm4", "amx-complex",
              "usermsr", "xop", "fma4", "tbm", "sse4a"):
        if f not in host:
            return f
    return None


def test_a_library_for_missing_cpu_features_refuses_to_load(tmp_path):
    feature = missing_feature()
    if feature is None or os.uname().machine != "x86_64":
        pytest.skip("no candidate CPU feature is missing here")
    out = te.export_library(symbolic_kernels(f"llvm -mattr=+{feature}")[0], tmp_path / "libfuture.so")
    assert feature in json.loads(pathlib.Path(out.manifest).read_text())["cpu"]["features"]
    with pytest.raises(te.TEError, match=f"needs CPU features this machine lacks: {feature}"):
        te.load_module(out.library)
    # The library's own load-time check says the same to a loader that reads no manifest.
    script = (f"import sys; sys.path.insert(0, {str(EXAMPLES)!r}); import te_kernels\n"
              f"try:\n    te_kernels.load({out.library!r})\nexcept OSError as e:\n    print(e); sys.exit(3)\n")
    r = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, env=without_te())
    assert r.returncode == 3, r.stdout + r.stderr
    assert f"needs CPU features this machine lacks: {feature}" in r.stdout


def without_te():
    """An environment in which `import te` fails, as for a framework without te."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    env["OMP_NUM_THREADS"] = "1"
    return env


@pytest.fixture(scope="module")
def resnet_conv_library(tmp_path_factory):
    """`autotune export` of the committed ResNet-18 conv log: .so + header + manifest."""
    out = tmp_path_factory.mktemp("export")
    autotune = BUILD / "autotune"
    assert autotune.exists(), f"{autotune} is not built"
    r = subprocess.run([str(autotune), "export", "--log", str(ROOT / "tuning_logs" / "resnet18_conv_llvm.jsonl"),
                        "--ops", "conv2d", "-o", str(out / "libresnet_conv.so"), "--json"],
                       capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    summary = json.loads(r.stdout)
    assert len(summary["kernels"]) == 12 and "conv2d_1_512_7_7_512_3_3_1_1" in summary["kernels"]
    return out


@pytest.fixture(scope="module")
def resnet_fused_library(tmp_path_factory):
    """`autotune export` of the committed fused conv2d+bias+relu log (ResNet-18 conv C12)."""
    out = tmp_path_factory.mktemp("export_fused")
    r = subprocess.run([str(BUILD / "autotune"), "export", "--log",
                        str(ROOT / "tuning_logs" / "conv2d_bias_relu_llvm.jsonl"), "--ops", "conv2d_bias_relu",
                        "-o", str(out / "libresnet_fused.so"), "--json"], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout)["kernels"] == ["conv2d_bias_relu_1_512_7_7_512_3_3_1_1"]
    manifest = json.loads((out / "libresnet_fused.json").read_text())
    k = manifest["kernels"][0]
    assert k["op"] == "conv2d_bias_relu" and [a["name"] for a in k["args"]][2] == "bias"
    assert k["record"]["workload_key"] == k["workload_key"] == "conv2d_bias_relu(1,512,7,7,512,3,3,1,1)"
    return out


def test_cli_export_writes_library_header_and_manifest(resnet_conv_library):
    manifest = json.loads((resnet_conv_library / "libresnet_conv.json").read_text())
    assert manifest["prefix"] == "resnet_conv"
    k = next(k for k in manifest["kernels"] if k["name"] == "conv2d_1_512_7_7_512_3_3_1_1")
    assert k["workload_key"] == "conv2d(1,512,7,7,512,3,3,1,1)"
    assert k["op"] == "conv2d" and k["op_args"]["stride"] == 1
    assert [a["shape"] for a in k["args"]] == [[1, 512, 7, 7], [32, 512, 3, 3, 16], [1, 512, 7, 7]]
    assert k["record"]["error"] == "none" and k["record"]["workload_key"] == k["workload_key"]
    assert k["tuned_on"].startswith("cpu: ")
    header = (resnet_conv_library / "libresnet_conv.h").read_text()
    assert "int32_t conv2d_1_512_7_7_512_3_3_1_1(DLTensor** args, int32_t num_args);" in header


def test_numpy_example_without_te(resnet_conv_library):
    r = subprocess.run([sys.executable, str(EXAMPLES / "numpy_example.py"), str(resnet_conv_library / "libresnet_conv.so"),
                        "conv2d_1_512_7_7_512_3_3_1_1", "conv2d_1_64_56_56_128_1_1_2_0"],
                       capture_output=True, text=True, env=without_te())
    assert r.returncode == 0, r.stdout + r.stderr
    assert r.stdout.count(" ok ") == 2 and "refused as expected" in r.stdout


def test_cpp_consumer_with_only_the_header_and_dlpack(resnet_fused_library):
    """Issue 7's "done": a tuned conv2d+bias+relu from a log, as .so + header + manifest, called
    correctly by a C++ program that has nothing of te (checked against a plain loop)."""
    out = resnet_fused_library
    exe = out / "consumer"
    build = subprocess.run(["c++", "-std=c++17", "-O2", "-Wall", "-Werror", str(EXAMPLES / "consumer.cc"), f"-I{out}",
                            f"-L{out}", "-lresnet_fused", f"-Wl,-rpath,{out}", "-o", str(exe)],
                           capture_output=True, text=True)
    assert build.returncode == 0, build.stderr
    r = subprocess.run([str(exe)], capture_output=True, text=True, env=without_te())
    assert r.returncode == 0, r.stdout + r.stderr
    assert "max relative error" in r.stdout and "WRONG" not in r.stdout
    assert r.stdout.count("refused as expected") == 4


def test_cli_export_usage_errors(tmp_path):
    autotune = BUILD / "autotune"
    r = subprocess.run([str(autotune), "export", "--log", str(tmp_path / "none.jsonl"), "-o", str(tmp_path / "l.so")],
                       capture_output=True, text=True)
    assert r.returncode == 1 and "does not exist" in r.stderr
    r = subprocess.run([str(autotune), "export", "--log", str(ROOT / "tuning_logs" / "bert_norm_llvm.jsonl"),
                        "--ops", "nope", "-o", str(tmp_path / "l.so")], capture_output=True, text=True)
    assert r.returncode == 1 and "'nope' is not a registered operator template" in r.stderr


def test_torch_example(tmp_path):
    pytest.importorskip("torch")
    out = te.export_tuning_log(ROOT / "tuning_logs" / "bert_gemm_llvm.jsonl", tmp_path / "libgemm.so", ops="matmul")
    r = subprocess.run([sys.executable, str(EXAMPLES / "torch_example.py"), out.library],
                       capture_output=True, text=True, env=without_te())
    assert r.returncode == 0, r.stdout + r.stderr
    assert "torch.ops.te_kernels." in r.stdout and "refused as expected" in r.stdout


def test_load_module_takes_torch_tensors_through_dlpack(tmp_path):
    torch = pytest.importorskip("torch")
    lib = te.load_module(te.export_library(symbolic_kernels()[1], tmp_path / "libtorch_mm.so").library)
    x, y = torch.rand(9, 32), torch.rand(32, 16)
    z = torch.full((9, 16), float("nan"))
    lib.mm16(x, y, z)  # each tensor through __dlpack__, written in place
    torch.testing.assert_close(z, x @ y, rtol=1e-5, atol=1e-5)
    with pytest.raises(te.TEError, match=r"compact row-major"):
        lib.mm16(x, torch.rand(16, 32).t(), z)


def test_cuda_kernel_is_exported_with_its_ptx(tmp_path):
    n = te.var("n")
    a = te.placeholder((n,), name="A")
    c = te.compute((n,), lambda i: a[i] * 2.0, name="C")
    s = te.create_schedule(c.op)
    bx, tx = s[c].split(c.op.axis[0], factor=64)
    s[c].bind(bx, te.thread_axis("blockIdx.x"))
    s[c].bind(tx, te.thread_axis("threadIdx.x"))
    try:
        f = te.build(s, [a, c], target="cuda", name="gpu_twice")
    except te.TEError as e:
        pytest.skip(f"te without CUDA: {e}")
    out = te.export_library(f, tmp_path / "libgpu.so")
    kernel = json.loads(pathlib.Path(out.manifest).read_text())["kernels"][0]
    assert kernel["device"] == "cuda" and kernel["cuda"]["block"] == [64, 1, 1]
    lib = te.load_module(out.library)
    with pytest.raises(te.TEError, match=r"expected a CUDA array \(device type 2\), got device type 1"):
        lib.gpu_twice(np.zeros(70, "float32"), np.zeros(70, "float32"))
