"""te.ops — the operator library: ready-made computes (the same ones the `autotune` command
and te.autotune's built-in templates use), the CPU conv2d weight layout transform, and the
lists of tunable operators and workload sets.

    import te, te.ops
    A = te.placeholder((64, 32), name="A"); B = te.placeholder((32, 16), name="B")
    C = te.ops.matmul(A, B)                      # schedule and build it like any compute
    bias = te.placeholder((16,), name="bias")
    Y = te.ops.dense(A, B, bias, activation="gelu")  # gelu(A @ B + bias), one stage over the matmul

matmul takes trans_a / trans_b (keywords: A given [k, m], B given [n, k]); linear is dense with
a PyTorch Linear weight [n, k] (out_features, in_features).

Operators: matmul (NN/NT/TN/TT), batch_matmul, dense (bias, relu/gelu), linear, conv2d_nchw, conv2d_nchwc (blocked
layouts; nchw_to_nchwc, nchwc_to_nchw and conv2d_nchwc_pack_weight convert), conv2d_nchw_bias_relu,
conv2d_nhwc, conv2d_nchw_grouped, conv2d_transpose_nchw, conv3d_ncdhw, depthwise_conv2d_nchw,
pool2d (max/avg), softmax, layer_norm. Each has a built-in tuning template (list_ops()).

The CPU ("llvm") conv2d kernels of the built-in template take their weight pre-packed in blocks
of 16 filters (OIHW16o); `pack_conv2d_weight` does that transform on a NumPy array, and
`conv2d_pack_weight` gives it as a compute to build as a kernel.

Depthwise conv2d and pooling also come in the blocked layout NCHW16c (depthwise_conv2d_nchwc,
pool2d_nchwc; templates "<op>_nchwc"), with the transforms nchw_to_nchwc / nchwc_to_nchw /
depthwise_pack_weight as computes (schedule_layout_transform schedules them for the CPU).
"""
import numpy as _np

from te import _core

_ops = _core._ops

__all__ = ["matmul", "batch_matmul", "linear", "softmax", "layer_norm", "conv2d_nchw", "conv2d_pack_weight", "pack_conv2d_weight",
           "conv2d_nchwc", "nchw_to_nchwc", "nchwc_to_nchw", "conv2d_nchwc_pack_weight", "CONV2D_CHANNEL_BLOCK",
           "dense", "conv2d_nchw_bias_relu", "pool2d", "depthwise_conv2d_nchw", "conv2d_nhwc", "conv2d_nchw_grouped",
           "conv2d_transpose_nchw", "conv3d_ncdhw", "list_ops", "workload_sets",
           "NCHWC_BLOCK", "depthwise_conv2d_nchwc", "depthwise_pack_weight", "pool2d_nchwc", "nchw_to_nchwc",
           "nchwc_to_nchw", "schedule_layout_transform"]

#: Filters per block of the CPU conv2d weight layout (OIHW16o).
CONV2D_CHANNEL_BLOCK = _ops.conv2d_channel_block

matmul = _ops.matmul
batch_matmul = _ops.batch_matmul
softmax = _ops.softmax
layer_norm = _ops.layer_norm
conv2d_nchw = _ops.conv2d_nchw
conv2d_pack_weight = _ops.conv2d_pack_weight
conv2d_nchwc = _ops.conv2d_nchwc
nchw_to_nchwc = _ops.nchw_to_nchwc
nchwc_to_nchw = _ops.nchwc_to_nchw
conv2d_nchwc_pack_weight = _ops.conv2d_nchwc_pack_weight
dense = _ops.dense
linear = _ops.linear
conv2d_nchw_bias_relu = _ops.conv2d_nchw_bias_relu
pool2d = _ops.pool2d
depthwise_conv2d_nchw = _ops.depthwise_conv2d_nchw
conv2d_nhwc = _ops.conv2d_nhwc
conv2d_nchw_grouped = _ops.conv2d_nchw_grouped
conv2d_transpose_nchw = _ops.conv2d_transpose_nchw
conv3d_ncdhw = _ops.conv3d_ncdhw
#: Channels per block of the NCHWc depthwise/pooling templates (NCHW16c: one AVX-512 vector).
NCHWC_BLOCK = _ops.nchwc_block
depthwise_conv2d_nchwc = _ops.depthwise_conv2d_nchwc
depthwise_pack_weight = _ops.depthwise_pack_weight
pool2d_nchwc = _ops.pool2d_nchwc
nchw_to_nchwc = _ops.nchw_to_nchwc
nchwc_to_nchw = _ops.nchwc_to_nchw
schedule_layout_transform = _ops.schedule_layout_transform
list_ops = _ops.list_ops
workload_sets = _ops.workload_sets


def pack_conv2d_weight(weight):
    """A KCRS weight (NumPy array) in the CPU conv2d layout OIHW16o: shape
    [ceil(K/16), C, R, S, 16], packed[kb, c, r, s, kk] = weight[kb*16 + kk, c, r, s], zero beyond K."""
    w = _np.asarray(weight)
    if w.ndim != 4:
        raise _core.TEError(f"te.ops.pack_conv2d_weight: the weight must be 4-D (K, C, R, S), got shape {w.shape}")
    k, c, r, s = w.shape
    block = CONV2D_CHANNEL_BLOCK
    blocks = -(-k // block)
    padded = _np.zeros((blocks * block, c, r, s), dtype=w.dtype)
    padded[:k] = w
    return _np.ascontiguousarray(padded.reshape(blocks, block, c, r, s).transpose(0, 2, 3, 4, 1))
