"""Hand-written te schedules for target cuda, shared by bench/matmul_cuda.py,
bench/conv2d_cuda.py and tests/python/test_cuda.py (which generates and NVRTC-compiles them on
every machine and runs them against NumPy on a GPU)."""
import te
import te.ops  # te.ops.matmul (float16)


def _cooperative_load(s, cache, threads_y, threads_x):
    """Spreads the copy of a shared tile over the block's threads_y x threads_x threads."""
    fused = s[cache].fuse(*cache.op.axis)
    rest, lane_x = s[cache].split(fused, factor=threads_x)
    _, lane_y = s[cache].split(rest, factor=threads_y)
    s[cache].bind(lane_y, te.thread_axis("threadIdx.y"))
    s[cache].bind(lane_x, te.thread_axis("threadIdx.x"))


def matmul(n, m, k, block=128, threads=16, kstep=8, vthreads=1, dtype="float32", double_buffer=False, stages=2):
    """C[n, m] = A[n, k] @ B[k, m] in fp32 (dtype "float16": float16 A, B and C with float32
    accumulation, te.ops.matmul's C = float16(C_acc), C_acc the float32 sum). Each block computes a block x block tile of C with
    threads x threads threads; each thread keeps a (block/threads)^2 tile of C in registers
    (cache_write "local"), and A/B pass through shared memory kstep columns/rows at a time,
    loaded cooperatively. vthreads > 1: each axis of the block tile is first split into
    vthreads virtual threads (TVM's strided register tiles), so a thread's tile is vthreads x
    vthreads pieces block/vthreads apart instead of one contiguous square (neighbouring threads
    then read neighbouring shared-memory words). double_buffer: the shared tiles double-buffered,
    or with stages > 2 pipelined (Stage.pipeline: that many buffers, cp.async on sm_80 and
    newer). Returns (schedule, [A, B, C])."""
    if n % block or m % block or k % kstep or block % (threads * vthreads):
        raise ValueError(f"matmul: sizes {n}x{m}x{k} must be multiples of block={block} / kstep={kstep}")
    if dtype not in ("float32", "float16"):
        raise ValueError(f"matmul: dtype {dtype!r} is not supported; use float32 or float16")
    A = te.placeholder((n, k), dtype=dtype, name="A")
    B = te.placeholder((k, m), dtype=dtype, name="B")
    if dtype == "float16":
        # C = float16(C_acc); C_acc, the float32 sum, accumulates in a "local" cache (the
        # register tile) and its global copy is inlined into C's rounding.
        C = te.ops.matmul(A, B, name="C")
        acc = C.op.input_tensors[0]
        s = te.create_schedule(C.op)
    else:
        r = te.reduce_axis((0, k), name="k")
        C = te.compute((n, m), lambda i, j: te.sum(A[i, r] * B[r, j], axis=r), name="C")
        s = te.create_schedule(C.op)
    red = C if dtype == "float32" else acc
    AS = s.cache_read(A, "shared", [red.op])
    BS = s.cache_read(B, "shared", [red.op])
    CL = s.cache_write(red, "local")
    if dtype == "float16":
        s[acc].compute_inline()
    i, j = C.op.axis
    by, yi = s[C].split(i, factor=block)
    bx, xi = s[C].split(j, factor=block)
    if vthreads > 1:
        vy, yi = s[C].split(yi, nparts=vthreads)
        vx, xi = s[C].split(xi, nparts=vthreads)
    ty, yi = s[C].split(yi, nparts=threads)
    tx, xi = s[C].split(xi, nparts=threads)
    if vthreads > 1:
        s[C].reorder(by, bx, vy, vx, ty, tx, yi, xi)
        s[C].bind(vy, te.thread_axis("vthread"))
        s[C].bind(vx, te.thread_axis("vthread"))
    else:
        s[C].reorder(by, bx, ty, tx, yi, xi)
    s[C].bind(by, te.thread_axis("blockIdx.y"))
    s[C].bind(bx, te.thread_axis("blockIdx.x"))
    s[C].bind(ty, te.thread_axis("threadIdx.y"))
    s[C].bind(tx, te.thread_axis("threadIdx.x"))
    s[CL].compute_at(s[C], tx)
    ci, cj = CL.op.axis
    ko, ki = s[CL].split(CL.op.reduce_axis[0], factor=kstep)
    s[CL].reorder(ko, ki, ci, cj)
    s[CL].unroll(ci)
    s[CL].unroll(cj)
    s[AS].compute_at(s[CL], ko)
    s[BS].compute_at(s[CL], ko)
    _cooperative_load(s, AS, threads, threads)
    _cooperative_load(s, BS, threads, threads)
    if double_buffer:  # stages > 2: a deeper pipeline of asynchronous copies (sm_80 and newer)
        for cache in (AS, BS):
            s[cache].pipeline(stages) if stages > 2 else s[cache].double_buffer()
    return s, [A, B, C]


def conv2d(batch, in_channels, size, out_channels, kernel=3, pad=1, channels_per_block=16, tile=8, rc_step=8):
    """NCHW fp32 conv2d, stride 1: out[n, f, y, x] = sum over (c, ry, rx) of
    pad(data)[n, c, y + ry, x + rx] * weight[f, c, ry, rx]. A block computes channels_per_block
    output channels of a tile x tile patch (one thread per pixel, its channels in registers);
    the weights pass through shared memory rc_step input channels at a time.
    Returns (schedule, [data, weight, out])."""
    out_size = size + 2 * pad - kernel + 1
    if out_size % tile or out_channels % channels_per_block or in_channels % rc_step:
        raise ValueError("conv2d: the output size, out_channels and in_channels must divide by tile, "
                         "channels_per_block and rc_step")
    data = te.placeholder((batch, in_channels, size, size), name="data")
    weight = te.placeholder((out_channels, in_channels, kernel, kernel), name="weight")
    padded = te.compute(
        (batch, in_channels, size + 2 * pad, size + 2 * pad),
        lambda n, c, y, x: te.if_then_else(
            te.all(y >= pad, y < size + pad, x >= pad, x < size + pad), data[n, c, y - pad, x - pad], 0.0),
        name="pad")
    rc = te.reduce_axis((0, in_channels), name="rc")
    ry = te.reduce_axis((0, kernel), name="ry")
    rx = te.reduce_axis((0, kernel), name="rx")
    out = te.compute(
        (batch, out_channels, out_size, out_size),
        lambda n, f, y, x: te.sum(padded[n, rc, y + ry, x + rx] * weight[f, rc, ry, rx], axis=[rc, ry, rx]),
        name="conv")
    s = te.create_schedule(out.op)
    s[padded].compute_inline()
    WS = s.cache_read(weight, "shared", [out.op])
    OL = s.cache_write(out, "local")
    n, f, y, x = out.op.axis
    fo, fi = s[out].split(f, factor=channels_per_block)
    yo, yi = s[out].split(y, factor=tile)
    xo, xi = s[out].split(x, factor=tile)
    s[out].reorder(n, fo, yo, xo, yi, xi, fi)
    s[out].bind(s[out].fuse(n, fo), te.thread_axis("blockIdx.z"))
    s[out].bind(yo, te.thread_axis("blockIdx.y"))
    s[out].bind(xo, te.thread_axis("blockIdx.x"))
    s[out].bind(yi, te.thread_axis("threadIdx.y"))
    s[out].bind(xi, te.thread_axis("threadIdx.x"))
    s[OL].compute_at(s[out], xi)
    on, of, oy, ox = OL.op.axis
    rco, rci = s[OL].split(OL.op.reduce_axis[0], factor=rc_step)
    s[OL].reorder(rco, rci, OL.op.reduce_axis[1], OL.op.reduce_axis[2], of)
    s[OL].unroll(of)
    s[WS].compute_at(s[OL], rco)
    _cooperative_load(s, WS, tile, tile)
    return s, [data, weight, out]
