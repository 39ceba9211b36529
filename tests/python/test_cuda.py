"""The CUDA backend from Python: te.cuda devices, device arrays, build for target "cuda" with
NVRTC options, get_source("cuda"/"ptx") and get_binary("cubin"), the hand schedules of the GPU
benchmarks (generated and NVRTC-compiled everywhere), and clear errors without a GPU. Tests
marked gpu run only where te.cuda(0).exist (scripts/gpu_check.sh); torch interop also needs
PyTorch with CUDA."""
import os
import subprocess
import sys

import numpy as np
import pytest

import te
import te.autotune

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(ROOT, "bench"))
import cuda_schedules  # noqa: E402

HAS_GPU = te.cuda(0).exist
gpu = pytest.mark.skipif(not HAS_GPU, reason="no CUDA device")


def scale_schedule():
    n = te.var("n")
    A = te.placeholder((n,), name="A")
    B = te.compute((n,), lambda i: A[i] * 2.0 + 1.0, name="B")
    s = te.create_schedule(B.op)
    xo, xi = s[B].split(B.op.axis[0], factor=64)
    s[B].bind(xo, te.thread_axis("blockIdx.x"))
    s[B].bind(xi, te.thread_axis("threadIdx.x"))
    return s, [A, B]


def test_cuda_device_handle():
    d = te.cuda(1)
    assert (d.device_type, d.index) == ("cuda", 1) and repr(d) == "cuda(1)"
    assert d == te.Device("cuda", 1) and d != te.cpu(1)
    assert te.cpu().exist
    assert te.cuda(0).exist == (te._core._cuda_device_count() > 0)
    with pytest.raises(te.TEError, match="device type 'opencl' is not supported"):
        te.Device("opencl", 0)
    with pytest.raises(te.TEError, match="non-negative"):
        te.cuda(-1)


def test_build_cuda_sources_and_options():
    s, args = scale_schedule()
    f = te.build(s, args, "cuda -arch=sm_80 -use_fast_math", name="scale")
    assert f.target == "cuda -arch=sm_80 -use_fast_math"
    cu = f.get_source("cuda")
    assert 'extern "C" __global__' in cu and "scale_kernel" in cu
    ptx = f.get_source("ptx")
    assert ".target sm_80" in ptx and ".entry scale_kernel(" in ptx
    cubin = f.get_binary("cubin")
    assert isinstance(cubin, bytes) and cubin[:4] == b"\x7fELF"
    assert "for (" in f.get_source("lowered") or "threadIdx" in f.get_source("lowered")
    with pytest.raises(te.TEError, match="format 'll' is not available for target cuda"):
        f.get_source("ll")
    with pytest.raises(te.TEError, match="a cubin needs a real architecture"):
        te.build(s, args, "cuda -arch=compute_80").get_binary("cubin")
    with pytest.raises(te.TEError, match="not binary"):
        f.get_binary("ptx")
    with pytest.raises(te.TEError, match="bad -arch"):
        te.build(s, args, "cuda -arch=ampere")


def test_block_limits_checked_at_build():
    s, args = cuda_schedules.matmul(256, 256, 64)  # 2 x 128x8 float tiles = 8 KiB, 256 threads
    te.build(s, args, "cuda -max-shared-memory-per-block=8192")
    with pytest.raises(te.TEError, match=r"8192 bytes .*192 bytes over the limit of 8000 bytes"):
        te.build(s, args, "cuda -max-shared-memory-per-block=8000")
    with pytest.raises(te.TEError, match="256 threads per block .*over the limit of 128"):
        te.build(s, args, "cuda -max-threads-per-block=128")


def test_vthread_strided_writes_and_errors():
    """An axis bound to vthread: each thread writes its 4 virtual threads' elements, 64 apart."""
    A = te.placeholder((1024,), name="A")
    B = te.compute((1024,), lambda i: A[i] * 2.0 + 1.0, name="B")
    s = te.create_schedule(B.op)
    bx, rest = s[B].split(B.op.axis[0], factor=256)
    v, tx = s[B].split(rest, nparts=4)
    s[B].bind(bx, te.thread_axis("blockIdx.x"))
    s[B].bind(v, te.thread_axis("vthread"))
    s[B].bind(tx, te.thread_axis("threadIdx.x"))
    f = te.build(s, [A, B], "cuda", name="vt")
    cu = f.get_source("cuda")
    assert "__launch_bounds__(64)" in cu and cu.count("B[") == 4, cu
    assert ".entry vt_kernel(" in f.get_source("ptx")
    if HAS_GPU:
        a = np.random.default_rng(0).standard_normal(1024).astype("float32")
        b = te.nd.empty((1024,), "float32", device=te.cuda(0))
        f(te.nd.array(a, device=te.cuda(0)), b)
        np.testing.assert_allclose(b.numpy(), a * 2 + 1, rtol=1e-6)
    s2 = te.create_schedule(B.op)
    w, t = s2[B].split(B.op.axis[0], nparts=128)
    s2[B].bind(w, te.thread_axis("vthread"))
    s2[B].bind(t, te.thread_axis("threadIdx.x"))
    with pytest.raises(te.TEError, match="128 virtual threads, over the limit of 64"):
        te.build(s2, [A, B], "cuda")


@pytest.mark.parametrize("name", ["matmul", "matmul_vthread", "conv2d"])
def test_benchmark_schedules_compile(name):
    """The GPU benchmarks' kernels (small sizes here) are generated and NVRTC-compiled."""
    if name == "conv2d":
        s, args = cuda_schedules.conv2d(1, 16, 16, 32)
    else:
        s, args = cuda_schedules.matmul(256, 256, 64, vthreads=2 if name == "matmul_vthread" else 1)
    f = te.build(s, args, "cuda", name=name)
    cu = f.get_source("cuda")
    assert "__shared__" in cu and "__syncthreads();" in cu
    assert f".entry {name}_kernel(" in f.get_source("ptx")
    if name.startswith("matmul"):
        assert "float A_shared[1024]" in cu  # the block's 128x8 tile, not one thread's rows
        assert "float C_local[64]" in cu  # 8x8 per thread (with vthreads: 2x2 slices of 4x4)


def test_fp16_matmul_compute_and_benchmark_schedule():
    """te.ops.matmul on float16 accumulates in float32 (C = float16(C_acc)); the fp16 benchmark
    schedule keeps the float32 accumulators per thread and stages float16 tiles in shared memory.
    The compute's numbers are checked against NumPy on the CPU (the plain llvm schedule) and the
    benchmark schedule's in the CUDA emulator."""
    A = te.placeholder((33, 70), dtype="float16", name="A")
    B = te.placeholder((70, 20), dtype="float16", name="B")
    C = te.ops.matmul(A, B)
    assert C.dtype == "float16" and C.name == "C"
    (acc,) = C.op.input_tensors
    assert acc.dtype == "float32" and acc.name == "C_acc"
    assert te.ops.matmul(A, B, name="D", out_dtype="float32").dtype == "float32"
    with pytest.raises(te.TEError, match="same dtype"):
        te.ops.matmul(A, te.placeholder((70, 20), name="B32"))
    with pytest.raises(te.TEError, match="out_dtype 'int8'"):
        te.ops.matmul(A, B, out_dtype="int8")
    if te._core._backend_built("llvm"):  # the GPU machine's te is CUDA-only (gpu_check.sh)
        rng = np.random.default_rng(3)
        a = rng.uniform(-1, 1, (33, 70)).astype("float16")
        b = rng.uniform(-1, 1, (70, 20)).astype("float16")
        f = te.build(te.create_schedule(C.op), [A, B, C], "llvm")
        c = np.full((33, 20), np.nan, "float16")
        f(a, b, c)
        ref = a.astype("float32") @ b.astype("float32")
        # Rounded once to float16: within one float16 ulp of the float32 result.
        np.testing.assert_array_less(np.abs(c.astype("float32") - ref),
                                     np.spacing(np.abs(ref).astype("float16")).astype("float32") + 1e-6)

    s, args = cuda_schedules.matmul(256, 256, 64, dtype="float16")
    f = te.build(s, args, "cuda", name="hgemm")
    cu = f.get_source("cuda")
    assert "#include <cuda_fp16.h>" in cu and "__half* __restrict__ C" in cu
    assert "__half A_shared[1024]" in cu  # the block's 128x8 float16 tile
    assert "float C_acc_local[64]" in cu  # 8x8 float32 accumulators per thread (registers)
    assert ".entry hgemm_kernel(" in f.get_source("ptx")
    # Its numbers in the CUDA emulator (float16 stored rounded, as on the GPU): one 128x128 block.
    s, args = cuda_schedules.matmul(128, 128, 16, dtype="float16")
    f = te.build(s, args, "cuda", name="hgemm_small")
    rng = np.random.default_rng(4)
    a = rng.uniform(-1, 1, (128, 16)).astype("float16")
    b = rng.uniform(-1, 1, (16, 128)).astype("float16")
    c = np.full((128, 128), np.nan, "float16")
    f.emulate(a, b, c)
    ref = a.astype("float32") @ b.astype("float32")
    np.testing.assert_array_less(np.abs(c.astype("float32") - ref),
                                 np.spacing(np.abs(ref).astype("float16")).astype("float32") + 1e-6)


def test_benchmarks_dry_run():
    for script, args in (("matmul_cuda.py", ["--sizes", "4096", "--dry-run"]),
                         ("matmul_cuda.py", ["--sizes", "1024", "--dtype", "float16", "--dry-run"]),
                         ("matmul_cuda.py", ["--sizes", "1024", "--dtype", "float16", "--tensor-cores", "--dry-run"]),
                         ("conv2d_cuda.py", ["--dry-run"])):
        out = subprocess.run([sys.executable, os.path.join(ROOT, "bench", script)] + args, capture_output=True,
                             text=True, env=dict(os.environ), timeout=300)
        assert out.returncode == 0, out.stderr
        assert "dry run" in out.stdout


def test_tuned_cuda_dry_run_takes_the_logs_best_record(tmp_path):
    """bench/tuned_cuda.py (the GPU tables of issue 6) builds the best record of a cuda log and
    marks a workload without one as "default"; a record of another config than the default
    must give other code."""
    import json
    te._core._autotune.register_builtin_templates()
    task = te._core._autotune.create_task("matmul", [64, 64, 64], "cuda")
    config = task.space.from_index(task.space.space_size // 3)
    s, _ = task.instantiate(config)
    record = {"build_seconds": 0.1, "code_hash": "0", "config": json.loads(config.to_json()),
              "config_index": config.index(), "costs": [1e-5, 1e-5, 1e-5], "error": "none", "error_message": "",
              "flop": task.flop, "hardware": "gpu: test", "steps": json.loads(s.steps_json()), "target": "cuda",
              "te_version": "0.1.0", "timestamp": 0.0, "version": 1, "workload_key": task.workload_key}
    log = tmp_path / "cuda.jsonl"
    log.write_text(json.dumps(record) + "\n")
    out = subprocess.run([sys.executable, os.path.join(ROOT, "bench", "tuned_cuda.py"), str(log), "--dry-run", "--sets", "",
                          "--extra", "matmul:64,64,64", "--extra", "matmul:32,32,32"],
                         capture_output=True, text=True, env=dict(os.environ), timeout=300)
    assert out.returncode == 0, out.stderr
    lines = out.stdout.splitlines()
    assert len(lines) == 2 and "matmul(64,64,64): cuda.jsonl" in lines[0] and "matmul(32,32,32): default" in lines[1], out.stdout
    out = subprocess.run([sys.executable, os.path.join(ROOT, "bench", "tuned_cuda.py"), "--dry-run", "--sets", "bert-gemm",
                          "--extra", "matmul_fp16:256,256,256"], capture_output=True, text=True, env=dict(os.environ),
                         timeout=300)
    assert out.returncode == 0 and out.stdout.count("dry run") == 6, out.stdout + out.stderr
    bad = subprocess.run([sys.executable, os.path.join(ROOT, "bench", "tuned_cuda.py"), "--dry-run", "--sets", "nope"],
                         capture_output=True, text=True, env=dict(os.environ), timeout=300)
    assert bad.returncode != 0 and "unknown workload set 'nope'" in bad.stderr


@pytest.mark.skipif(HAS_GPU, reason="checks the errors of a machine without a GPU")
def test_without_gpu_errors_are_clear():
    with pytest.raises(te.TEError, match="no CUDA device available"):
        te.nd.array(np.ones(4, "float32"), device=te.cuda(0))
    with pytest.raises(te.TEError, match="no CUDA device available"):
        te.nd.empty((4,), "float32", device=te.cuda(0))
    s, args = scale_schedule()
    f = te.build(s, args, "cuda", name="scale")
    with pytest.raises(te.TEError, match="no CUDA device available.*scale"):
        f(np.ones(8, "float32"), np.empty(8, "float32"))
    assert te.cuda(0).exist is False


def softmax_root_kernels(n, m):
    """Softmax with each stage at root and bound on its own: four kernels."""
    A = te.placeholder((n, m), name="A")
    k1 = te.reduce_axis((0, m), name="k1")
    k2 = te.reduce_axis((0, m), name="k2")
    mx = te.compute((n,), lambda i: te.max(A[i, k1], axis=k1), name="row_max")
    e = te.compute((n, m), lambda i, j: te.exp(A[i, j] - mx[i]), name="e")
    sm = te.compute((n,), lambda i: te.sum(e[i, k2], axis=k2), name="row_sum")
    out = te.compute((n, m), lambda i, j: e[i, j] / sm[i], name="softmax")
    s = te.create_schedule(out.op)
    for t in (mx, sm):
        bx, tx = s[t].split(t.op.axis[0], factor=32)
        s[t].bind(bx, te.thread_axis("blockIdx.x"))
        s[t].bind(tx, te.thread_axis("threadIdx.x"))
    for t in (e, out):
        s[t].bind(t.op.axis[0], te.thread_axis("blockIdx.x"))
        s[t].bind(t.op.axis[1], te.thread_axis("threadIdx.x"))
    return s, [A, out]


def test_root_stages_become_kernels():
    s, args = softmax_root_kernels(50, 40)
    f = te.build(s, args, "cuda", name="softmax4")
    cu = f.get_source("cuda")
    assert cu.count("__global__") == 4
    ptx = f.get_source("ptx")
    assert all(f".entry softmax4_kernel{k}(" in ptx for k in range(4))


def test_cpu_arrays_copy_and_from_dlpack():
    a = te.nd.array(np.arange(6, dtype="float32").reshape(2, 3))
    b = a.copyto(te.cpu())
    np.testing.assert_array_equal(b.numpy(), a.numpy())
    c = te.nd.empty((2, 3), "float32")
    c.copyfrom(a)
    np.testing.assert_array_equal(c.numpy(), a.numpy())
    d = te.nd.empty((2, 3), "float32")
    assert a.copyto(d) is not None and np.array_equal(d.numpy(), a.numpy())
    with pytest.raises(te.TEError, match="must match"):
        a.copyto(te.nd.empty((3, 2), "float32"))
    with pytest.raises(te.TEError, match="device must be te.cpu"):
        a.copyto("cuda")
    x = np.arange(5, dtype="float32")
    shared = te.nd.from_dlpack(x)  # zero copy
    x[0] = 42
    assert shared.numpy()[0] == 42 and shared.device == te.cpu(0)
    with pytest.raises(te.TEError, match="not compact row-major"):
        te.nd.from_dlpack(np.arange(10, dtype="float32")[::2])
    with pytest.raises(te.TEError, match="expected an object with __dlpack__"):
        te.nd.from_dlpack(3)


# ---- on a GPU only ------------------------------------------------------------------------

@gpu
def test_device_arrays_round_trip():
    x = np.random.default_rng(0).standard_normal((3, 7)).astype("float32")
    a = te.nd.array(x, device=te.cuda(0))
    assert a.device == te.cuda(0) and a.__dlpack_device__() == (2, 0)
    np.testing.assert_array_equal(a.numpy(), x)
    b = te.nd.empty((3, 7), "float32", device=te.cuda(0))
    b.copyfrom(a)  # device to device
    np.testing.assert_array_equal(b.copyto(te.cpu()).numpy(), x)
    with pytest.raises(te.TEError, match="does not exist"):
        te.nd.empty((2,), device=te.cuda(te._core._cuda_device_count()))


@gpu
def test_kernel_on_device_arrays_and_wrong_device():
    s, args = scale_schedule()
    f = te.build(s, args, "cuda", name="scale")
    x = np.random.default_rng(1).standard_normal(1000).astype("float32")
    out = te.nd.array(np.full(1000, np.nan, "float32"), device=te.cuda(0))
    f(te.nd.array(x, device=te.cuda(0)), out)
    np.testing.assert_allclose(out.numpy(), x * 2 + 1, rtol=1e-6)
    host_out = np.full(1000, np.nan, "float32")
    f(x, host_out)  # CPU arrays: copied in and out
    np.testing.assert_allclose(host_out, x * 2 + 1, rtol=1e-6)
    with pytest.raises(te.TEError, match="lives on cpu.*on cuda"):
        f(te.nd.array(x, device=te.cuda(0)), np.empty(1000, "float32"))
    cpu_f = te.build(te.create_schedule(args[1].op), args)
    with pytest.raises(te.TEError, match="expected a CPU array"):
        cpu_f(te.nd.array(x, device=te.cuda(0)), np.empty(1000, "float32"))


@gpu
def test_benchmark_schedules_match_numpy_on_gpu():
    rng = np.random.default_rng(2)
    a = rng.standard_normal((256, 64)).astype("float32")
    b = rng.standard_normal((64, 384)).astype("float32")
    for vthreads in (1, 2):
        s, args = cuda_schedules.matmul(256, 384, 64, vthreads=vthreads)
        f = te.build(s, args, "cuda")
        c = te.nd.array(np.full((256, 384), np.nan, "float32"), device=te.cuda(0))
        f(te.nd.array(a, device=te.cuda(0)), te.nd.array(b, device=te.cuda(0)), c)
        np.testing.assert_allclose(c.numpy(), a @ b, rtol=1e-4, atol=1e-4)

    s, args = cuda_schedules.conv2d(2, 16, 16, 32)
    f = te.build(s, args, "cuda")
    x = rng.standard_normal((2, 16, 16, 16)).astype("float32")
    w = rng.standard_normal((32, 16, 3, 3)).astype("float32")
    out = np.full((2, 32, 16, 16), np.nan, "float32")
    f(x, w, out)
    padded = np.pad(x, ((0, 0), (0, 0), (1, 1), (1, 1)))
    ref = np.zeros_like(out)
    for ry in range(3):
        for rx in range(3):
            ref += np.einsum("nchw,fc->nfhw", padded[:, :, ry:ry + 16, rx:rx + 16], w[:, :, ry, rx])
    np.testing.assert_allclose(out, ref, rtol=1e-4, atol=1e-3)


@gpu
def test_fp16_matmul_matches_numpy_on_gpu():
    """The fp16 benchmark kernel against NumPy's float32
    product of the same float16 inputs, within one float16 ulp (plus float32 rounding)."""
    rng = np.random.default_rng(4)
    a = rng.standard_normal((256, 64)).astype("float16")
    b = rng.standard_normal((64, 384)).astype("float16")
    ref = a.astype("float32") @ b.astype("float32")
    tol = np.spacing(np.abs(ref).astype("float16")).astype("float32") + 1e-4
    s, args = cuda_schedules.matmul(256, 384, 64, dtype="float16")
    f = te.build(s, args, "cuda")
    c = te.nd.array(np.full((256, 384), np.nan, "float16"), device=te.cuda(0))
    f(te.nd.array(a, device=te.cuda(0)), te.nd.array(b, device=te.cuda(0)), c)
    np.testing.assert_array_less(np.abs(c.numpy().astype("float32") - ref), tol)


@gpu
def test_root_stage_kernels_match_numpy_on_gpu():
    s, args = softmax_root_kernels(50, 40)
    f = te.build(s, args, "cuda")
    x = np.random.default_rng(3).standard_normal((50, 40)).astype("float32")
    ref = np.exp(x - x.max(axis=1, keepdims=True))
    ref /= ref.sum(axis=1, keepdims=True)
    out = te.nd.array(np.full((50, 40), np.nan, "float32"), device=te.cuda(0))
    f(te.nd.array(x, device=te.cuda(0)), out)  # device arrays
    np.testing.assert_allclose(out.numpy(), ref, rtol=1e-5, atol=1e-6)
    host_out = np.full((50, 40), np.nan, "float32")
    f(x, host_out)  # CPU arrays: copied in before the first kernel, out after the last
    np.testing.assert_allclose(host_out, ref, rtol=1e-5, atol=1e-6)


@gpu
def test_torch_cuda_interop_zero_copy():
    torch = pytest.importorskip("torch")
    if not torch.cuda.is_available():
        pytest.skip("PyTorch without CUDA")
    s, args = scale_schedule()
    f = te.build(s, args, "cuda")
    x = torch.randn(500, device="cuda")
    y = torch.full((500,), float("nan"), device="cuda")
    f(x, y)  # torch tensors directly (their __dlpack__)
    torch.testing.assert_close(y, x * 2 + 1)
    ty = te.nd.from_dlpack(y)  # te array sharing y's memory
    y.zero_()
    assert float(np.abs(ty.numpy()).max()) == 0.0
    back = torch.from_dlpack(te.nd.array(np.arange(4, dtype="float32"), device=te.cuda(0)))
    assert back.is_cuda and back.cpu().tolist() == [0, 1, 2, 3]


def test_emulator_runs_gpu_schedules_without_a_gpu():
    """Module.emulate runs the CUDA kernels on the CPU with GPU semantics (blocks, threads in
    lockstep at barriers, race and bounds checks): the benchmark schedules and a four-kernel
    function match NumPy on every machine, outputs NaN-prefilled."""
    rng = np.random.default_rng(5)
    s, args = cuda_schedules.matmul(128, 128, 16)
    f = te.build(s, args, "cuda")
    a = rng.standard_normal((128, 16)).astype("float32")
    b = rng.standard_normal((16, 128)).astype("float32")
    c = np.full((128, 128), np.nan, "float32")
    f.emulate(a, b, c)
    np.testing.assert_allclose(c, a @ b, rtol=1e-4, atol=1e-4)

    s, args = cuda_schedules.conv2d(1, 16, 8, 16)
    f = te.build(s, args, "cuda")
    x = rng.standard_normal((1, 16, 8, 8)).astype("float32")
    w = rng.standard_normal((16, 16, 3, 3)).astype("float32")
    out = te.nd.array(np.full((1, 16, 8, 8), np.nan, "float32"))
    f.emulate(te.nd.array(x), te.nd.array(w), out)
    padded = np.pad(x, ((0, 0), (0, 0), (1, 1), (1, 1)))
    ref = np.zeros((1, 16, 8, 8), "float32")
    for ry in range(3):
        for rx in range(3):
            ref += np.einsum("nchw,fc->nfhw", padded[:, :, ry:ry + 8, rx:rx + 8], w[:, :, ry, rx])
    np.testing.assert_allclose(out.numpy(), ref, rtol=1e-4, atol=1e-3)

    s, args = softmax_root_kernels(50, 40)
    f = te.build(s, args, "cuda")
    x = rng.standard_normal((50, 40)).astype("float32")
    ref = np.exp(x - x.max(axis=1, keepdims=True))
    ref /= ref.sum(axis=1, keepdims=True)
    sm = np.full((50, 40), np.nan, "float32")
    f.emulate(x, sm)
    np.testing.assert_allclose(sm, ref, rtol=1e-5, atol=1e-6)


def test_double_buffered_shared_tiles():
    """Stage.double_buffer: the benchmark matmul with both shared tiles double-buffered (also with
    virtual threads) has twice the shared memory, the next block copied by cp.async (sm_80 and
    newer) or staged in registers (sm_75) and one barrier per k block, matches NumPy in the
    emulator, and is recorded in the steps; misuse is a TEError naming the stage."""
    rng = np.random.default_rng(7)
    for vthreads in (1, 2):
        s, args = cuda_schedules.matmul(128, 128, 40, kstep=8, vthreads=vthreads, double_buffer=True)
        assert ".double_buffer()" in s.steps_python()
        for target, copy in (("cuda -arch=sm_80", "te_cp_async<4>(A_shared + ("), ("cuda -arch=sm_75", "float A_shared_reg[4]")):
            f = te.build(s, args, target)
            cu = f.get_source("cuda")
            assert "float A_shared[2048]" in cu and copy in cu, target
            assert cu.count("__syncthreads();") == 2
            a = rng.standard_normal((128, 40)).astype("float32")
            b = rng.standard_normal((40, 128)).astype("float32")
            c = np.full((128, 128), np.nan, "float32")
            f.emulate(a, b, c)
            np.testing.assert_allclose(c, a @ b, rtol=1e-4, atol=1e-4)
    # Stage.pipeline(3): three buffers, the copies of two blocks ahead in flight (the wait leaves
    # the newest group pending).
    s, args = cuda_schedules.matmul(128, 128, 40, kstep=8, double_buffer=True, stages=3)
    assert ".pipeline(3)" in s.steps_python()
    f = te.build(s, args, "cuda -arch=sm_80")
    cu = f.get_source("cuda")
    assert "float A_shared[3072]" in cu and "te_cp_async_wait<1>();" in cu and cu.count("__syncthreads();") == 2
    c = np.full((128, 128), np.nan, "float32")
    f.emulate(a, b, c)
    np.testing.assert_allclose(c, a @ b, rtol=1e-4, atol=1e-4)
    ir = str(te.lower(s, args, target="cuda -arch=sm_80"))  # the GPU IR, readable: copies, commit, wait
    assert "cp_async(A.shared" in ir and "cp_async_commit()" in ir and "cp_async_wait(1)" in ir, ir
    with pytest.raises(te.TEError, match="pipeline: stage A.shared: 9 stages; expected 2 to 8"):
        next(stage for stage in s.stages if stage.op.name == "A.shared").pipeline(9)

    A = te.placeholder((64, 64), name="A")
    B = te.compute((64, 64), lambda i, j: A[i, j] * 2.0, name="B")
    s = te.create_schedule(B.op)
    with pytest.raises(te.TEError, match="stage B has storage scope 'global'.*cache_read"):
        s[B].double_buffer()
    AS = s.cache_read(A, "shared", [B])
    s[AS].double_buffer()
    bo, bi = s[B].split(B.op.axis[0], factor=8)
    s[B].bind(bo, te.thread_axis("blockIdx.x"))
    s[B].bind(bi, te.thread_axis("threadIdx.x"))
    s[AS].compute_at(s[B], bi)
    with pytest.raises(te.TEError, match="double_buffer: stage A.shared is computed at loop .*serial loop"):
        te.build(s, [A, B], "cuda")


def test_double_buffered_padding_copies_zero_fill():
    """The conv2d template's double-buffered input tile reads through the padding: on sm_80 and
    newer each element is one 4-byte cp.async whose source size is 0 outside the image (the
    copy writes zeros and reads nothing); the emulator's result matches NumPy."""
    import te.autotune
    task = te.autotune.create_task("conv2d", [1, 32, 10, 10, 8, 3, 3, 1, 1], "cuda")
    s, args = task.instantiate(0)
    assert task.config(0).value("double_buffer") == 1
    f = te.build(s, args, "cuda -arch=sm_80")
    cu = f.get_source("cuda")
    # The first block's copy and, in the loop over input-channel blocks, the next one's.
    padded_copy = [l for l in cu.splitlines() if "te_cp_async<4>(pad_shared" in l]
    assert len(padded_copy) == 2 and all(" ? data + (" in l and not l.endswith("true);") for l in padded_copy), cu
    rng = np.random.default_rng(3)
    x = rng.standard_normal((1, 32, 10, 10)).astype("float32")
    w = rng.standard_normal((8, 32, 3, 3)).astype("float32")
    out = np.full((1, 8, 10, 10), np.nan, "float32")
    f.emulate(x, w, out)
    padded = np.pad(x, ((0, 0), (0, 0), (1, 1), (1, 1)))
    ref = np.zeros((1, 8, 10, 10), "float32")
    for ry in range(3):
        for rx in range(3):
            ref += np.einsum("nchw,fc->nfhw", padded[:, :, ry:ry + 10, rx:rx + 10], w[:, :, ry, rx])
    np.testing.assert_allclose(out, ref, rtol=1e-4, atol=1e-4)


def test_emulator_errors():
    s, args = scale_schedule()
    f = te.build(s, args, "cuda", name="scale")
    with pytest.raises(te.TEError, match="scale"):
        f.emulate(np.zeros(100, "float32"))  # one argument short: the call's own checks
    with pytest.raises(te.TEError, match="N is 100 .*100|shape|B"):
        f.emulate(np.zeros(100, "float32"), np.zeros(99, "float32"))
    if not te._core._backend_built("llvm"):
        return  # a CUDA-only te (the GPU machine's, gpu_check.sh) has no CPU module to refuse
    A = te.placeholder((8,), name="A")
    B = te.compute((8,), lambda i: A[i] + 1.0, name="B")
    cpu = te.build(te.create_schedule(B.op), [A, B], "llvm", name="on_cpu")
    with pytest.raises(te.TEError, match='on_cpu .*runs modules built for target "cuda"'):
        cpu.emulate(np.zeros(8, "float32"), np.zeros(8, "float32"))


def wmma_matmul(m, n, k, warps=2, frags=2, k_frags=2):
    """float32 C = A @ B (float16 A, B) on tensor cores: blocks of warps x warps warps, each
    frags x frags 16 x 16 wmma tiles, k blocks of k_frags x 16 through shared memory."""
    A = te.placeholder((m, k), name="A", dtype="float16")
    B = te.placeholder((k, n), name="B", dtype="float16")
    C = te.ops.matmul(A, B, name="C", out_dtype="float32")
    s = te.create_schedule(C.op)
    CF = s.cache_write(C, "wmma.accumulator")
    AS, BS = s.cache_read(A, "shared", [CF]), s.cache_read(B, "shared", [CF])
    AF, BF = s.cache_read(AS, "wmma.matrix_a", [CF]), s.cache_read(BS, "wmma.matrix_b", [CF])
    tile = frags * 16
    i, j = C.op.axis
    bi, ii = s[C].split(i, factor=warps * tile)
    wi, ii = s[C].split(ii, factor=tile)
    fi, ii = s[C].split(ii, factor=16)
    bj, jj = s[C].split(j, factor=warps * tile)
    wj, jj = s[C].split(jj, factor=tile)
    fj, jj = s[C].split(jj, factor=16)
    s[C].reorder(bi, bj, wi, wj, fi, fj, ii, jj)
    for axis, tag in ((bi, "blockIdx.y"), (bj, "blockIdx.x"), (wi, "threadIdx.z"), (wj, "threadIdx.y")):
        s[C].bind(axis, te.thread_axis(tag))
    s[C].tensorize(ii, "wmma")  # the 16 x 16 store
    s[CF].compute_at(s[C], wj)
    ci, cj = CF.op.axis
    ko, kk = s[CF].split(CF.op.reduce_axis[0], factor=k_frags * 16)
    km, ki = s[CF].split(kk, factor=16)
    cio, cii = s[CF].split(ci, factor=16)
    cjo, cji = s[CF].split(cj, factor=16)
    s[CF].reorder(ko, km, cio, cjo, cii, cji, ki)
    s[CF].tensorize(cii, "wmma")  # fill (the init) and the 16 x 16 x 16 multiply-accumulate
    for T in (AS, BS):
        s[T].compute_at(s[CF], ko)
        f = s[T].fuse(*T.op.axis)
        f, lane = s[T].split(f, factor=32)
        f, y = s[T].split(f, factor=warps)
        _, z = s[T].split(f, factor=warps)
        for axis, tag in ((lane, "threadIdx.x"), (y, "threadIdx.y"), (z, "threadIdx.z")):
            s[T].bind(axis, te.thread_axis(tag))
    for F in (AF, BF):
        s[F].compute_at(s[CF], km)
    aio, aii = s[AF].split(AF.op.axis[0], factor=16)
    s[AF].tensorize(aii, "wmma")  # 16 x 16 loads
    bk, bj_ = BF.op.axis
    bjo, bji = s[BF].split(bj_, factor=16)
    s[BF].reorder(bjo, bk, bji)
    s[BF].tensorize(bk, "wmma")
    return s, [A, B, C]


def test_tensor_core_matmul_in_the_emulator():
    """Stage.tensorize(axis, "wmma"): a float16 matmul on tensor cores (nvcuda::wmma fill, load,
    mma_sync, store) compiles to PTX with wmma.mma and matches NumPy in the CUDA emulator, which
    runs each wmma operation lane by lane and checks every lane of a warp runs the same one; the
    matmul_fp16 template's default config is the tensor-core structure; misuse is a TEError."""
    rng = np.random.default_rng(11)
    s, args = wmma_matmul(64, 128, 96)
    assert '.tensorize(' in s.steps_python()
    f = te.build(s, args, "cuda")
    cu = f.get_source("cuda")
    assert "#include <mma.h>" in cu and cu.count("nvcuda::wmma::mma_sync(") == 1
    assert "wmma.mma.sync" in f.get_source("ptx")
    a = rng.standard_normal((64, 96)).astype("float16")
    b = rng.standard_normal((96, 128)).astype("float16")
    c = np.full((64, 128), np.nan, "float32")
    f.emulate(a, b, c)
    np.testing.assert_allclose(c, a.astype("float32") @ b.astype("float32"), rtol=1e-5, atol=1e-4)

    task = te.autotune.create_task("matmul_fp16", [64, 64, 32], "cuda")
    s, args = task.instantiate(0)
    f = te.build(s, args, "cuda")
    assert "nvcuda::wmma::mma_sync(" in f.get_source("cuda")
    a = rng.standard_normal((64, 32)).astype("float16")
    b = rng.standard_normal((32, 64)).astype("float16")
    c = np.full((64, 64), np.nan, "float16")
    f.emulate(a, b, c)
    np.testing.assert_allclose(c.astype("float32"), a.astype("float32") @ b.astype("float32"), rtol=2e-3, atol=2e-3)

    s, args = wmma_matmul(64, 64, 64)
    with pytest.raises(te.TEError, match="unknown intrinsic 'tensor_core'"):
        s[args[2]].tensorize(s[args[2]].leaf_iter_vars[-1], "tensor_core")
    with pytest.raises(te.TEError, match="needs target cuda|exists only on target cuda|has no threads"):
        te.build(s, args, "llvm")
    s, args = wmma_matmul(48, 64, 64)  # 48 rows: the second block's warp tile is half outside
    with pytest.raises(te.TEError, match="boundary guard"):
        te.build(s, args, "cuda")
