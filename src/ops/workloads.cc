// src/ops/workloads.cc — named sets of workloads (te/ops.h), tuned in one job by
// `autotune --workloads NAME` and measured by the benchmarks.
//
// ResNet-18's convolutions at batch 1, as numbered in the TVM and Ansor papers (C1 is the
// 7x7 stem; the 1x1 stride-2 layers are the residual downsampling branches). BERT-base GEMMs
// at sequence length 128: the QKV/output projections (768x768) and the two feed-forward
// layers; m = tokens, n = output features, k = input features; and the two batched GEMMs of
// self-attention over the 12 heads (head size 64): scores Q.K^T (K read transposed) and the
// weighted sum of values A.V.
#include <string>

#include "te/ops.h"

namespace te::ops {
namespace {

// conv2d arguments: n, c, h, w, k, r, s, stride, pad.
Workload conv(const char* label, int64_t c, int64_t hw, int64_t k, int64_t rs, int64_t stride, int64_t pad) {
  return {label, "conv2d", {1, c, hw, hw, k, rs, rs, stride, pad}};
}

// cpu-memops' depthwise and pooling rows in the blocked layout NCHW16c (the same shapes and
// labels; the operators "<op>_nchwc"), for the comparison with oneDNN in its own layout.
WorkloadSet nchwc_memops(const WorkloadSet& memops) {
  WorkloadSet set{"cpu-memops-nchwc",
                  "cpu-memops' depthwise conv2d and pooling shapes in the blocked layout NCHW16c (float32)",
                  {}};
  for (const Workload& w : memops.workloads)
    if (w.op == "depthwise_conv2d" || w.op == "max_pool2d" || w.op == "avg_pool2d")
      set.workloads.push_back({w.label, w.op + "_nchwc", w.args});
  return set;
}

std::vector<WorkloadSet> make_sets() {
  WorkloadSet resnet{"resnet18-conv",
                     "ResNet-18's twelve conv2d layers C1-C12 at batch 1 (NCHW, float32)",
                     {conv("C1", 3, 224, 64, 7, 2, 3), conv("C2", 64, 56, 64, 3, 1, 1),
                      conv("C3", 64, 56, 64, 1, 1, 0), conv("C4", 64, 56, 128, 3, 2, 1),
                      conv("C5", 64, 56, 128, 1, 2, 0), conv("C6", 128, 28, 128, 3, 1, 1),
                      conv("C7", 128, 28, 256, 3, 2, 1), conv("C8", 128, 28, 256, 1, 2, 0),
                      conv("C9", 256, 14, 256, 3, 1, 1), conv("C10", 256, 14, 512, 3, 2, 1),
                      conv("C11", 256, 14, 512, 1, 2, 0), conv("C12", 512, 7, 512, 3, 1, 1)}};
  // The same layers in the blocked layouts (conv2d_nchwc) with blocks of 16 channels (one
  // AVX-512 vector): C1's 3 input channels are one block of 3 (its data is NCHW3c, i.e. NHWC-like
  // per image; padding to 16 channels would multiply its arithmetic by 5.3).
  WorkloadSet resnet_nchwc{"resnet18-conv-nchwc",
                           "ResNet-18's conv2d layers C1-C12 at batch 1 in the blocked layouts NCHW16c / "
                           "OIHW16i16o (C1: input block 3) (float32)",
                           {}};
  for (const Workload& w : resnet.workloads) {
    std::vector<int64_t> args = w.args;
    args.push_back(args[1] % 16 == 0 ? 16 : args[1]);  // ic_block
    args.push_back(16);                               // oc_block
    resnet_nchwc.workloads.push_back({w.label, "conv2d_nchwc", args});
  }
  WorkloadSet bert{"bert-gemm",
                   "BERT-base GEMMs at sequence length 128: projections, feed-forward and batched attention (float32)",
                   {{"qkv-proj", "matmul", {128, 768, 768}},
                    {"ffn-up", "matmul", {128, 3072, 768}},
                    {"ffn-down", "matmul", {128, 768, 3072}},
                    {"attn-qk", "batch_matmul", {12, 128, 128, 64, 0, 1}},
                    {"attn-av", "batch_matmul", {12, 128, 64, 128, 0, 0}}}};
  // The square GEMMs of the operator issue's CPU target (>= 0.95x oneDNN at 2 threads, with
  // the BERT shapes above).
  WorkloadSet gemm{"gemm",
                   "square float32 GEMMs 512^3, 1024^3, 2048^3 (the CPU GEMM target shapes with bert-gemm's)",
                   {{"gemm-512", "matmul", {512, 512, 512}},
                    {"gemm-1024", "matmul", {1024, 1024, 1024}},
                    {"gemm-2048", "matmul", {2048, 2048, 2048}}}};
  // One shape of each operator (Ansor's single-operator benchmark, OSDI'20, with te's operator
  // set: its GMM/C2D/C3D/GRP/DIL/DEP/T2D/NRM at batch 1 next to te's fused and pooling
  // operators); DIL is the grouped conv2d with groups 1 and dilation 2.
  WorkloadSet ansor{"ansor-ops",
                    "one shape of each operator (matmul, batch_matmul NT/TN, dense, conv2d family, pooling, "
                    "softmax, layer_norm; float32, batch 1)",
                    {{"GMM", "matmul", {1024, 1024, 1024}},
                     {"BMM-NT", "batch_matmul", {12, 128, 128, 64, 0, 1}},
                     {"BMM-TN", "batch_matmul", {12, 128, 64, 128, 1, 0}},
                     {"DENSE", "dense_bias", {128, 768, 768}},
                     {"DENSE-GELU", "dense_bias_gelu", {128, 3072, 768}},
                     {"C2D", "conv2d", {1, 128, 28, 28, 128, 3, 3, 1, 1}},
                     {"C2D-NCHWC", "conv2d_nchwc", {1, 128, 28, 28, 128, 3, 3, 1, 1, 16, 16}},
                     {"C2D-BIAS-RELU", "conv2d_bias_relu", {1, 128, 28, 28, 128, 3, 3, 1, 1}},
                     {"C2D-NHWC", "conv2d_nhwc", {1, 28, 28, 128, 128, 3, 3, 1, 1, 1}},
                     {"GRP", "conv2d_grouped", {1, 128, 56, 56, 128, 3, 3, 1, 1, 1, 32}},
                     {"DIL", "conv2d_grouped", {1, 128, 28, 28, 128, 3, 3, 1, 2, 2, 1}},
                     {"DEP", "depthwise_conv2d", {1, 144, 56, 56, 3, 3, 1, 1, 1}},
                     {"T2D", "conv2d_transpose", {1, 256, 8, 8, 128, 4, 4, 2, 1}},
                     {"C3D", "conv3d", {1, 64, 8, 28, 28, 64, 3, 3, 3, 1, 1}},
                     {"MAXPOOL", "max_pool2d", {1, 64, 112, 112, 3, 2, 1}},
                     {"AVGPOOL", "avg_pool2d", {1, 64, 56, 56, 3, 2, 1}},
                     {"SOFTMAX", "softmax", {128, 768}},
                     {"NRM", "layer_norm", {128, 768}}}};
  // The blocked (NCHW16c) forms of the depthwise and pooling shapes.
  ansor.workloads.push_back({"DEP-NCHWC", "depthwise_conv2d_nchwc", {1, 144, 56, 56, 3, 3, 1, 1, 1}});
  ansor.workloads.push_back({"MAXPOOL-NCHWC", "max_pool2d_nchwc", {1, 64, 112, 112, 3, 2, 1}});
  ansor.workloads.push_back({"AVGPOOL-NCHWC", "avg_pool2d_nchwc", {1, 64, 56, 56, 3, 2, 1}});
  // The memory-bound operators on the shapes of real networks, for their benchmarks against
  // oneDNN and the roofline: MobileNetV2's 3x3 depthwise layers (numbered by their bottleneck
  // block; DW3 is ansor-ops' DEP), ResNet-18's max pool after C1 and global average pool,
  // GoogLeNet's 3x3/1 average pool branch, ansor-ops' 3x3/2 average pool, BERT-base's attention softmax (12 heads x 128 rows
  // of 128) and hidden-size softmax / layer_norm (128 x 768, ansor-ops' shapes), and
  // DRAM-sized shapes (inputs of 64 MiB and 25-29 MiB, far beyond the 2 MiB L2 per core) where
  // the bandwidth roofline is claimed: the 128 x 768 ones fit in L2 and measure cache.
  WorkloadSet memops{"cpu-memops",
                     "memory-bound operators on real networks' shapes (MobileNetV2 depthwise, ResNet-18 and GoogLeNet "
                     "pooling, BERT softmax/layer_norm) plus DRAM-sized shapes for the bandwidth roofline (float32)",
                     {{"MB-DW1", "depthwise_conv2d", {1, 32, 112, 112, 3, 3, 1, 1, 1}},
                      {"MB-DW2", "depthwise_conv2d", {1, 96, 112, 112, 3, 3, 2, 1, 1}},
                      {"MB-DW3", "depthwise_conv2d", {1, 144, 56, 56, 3, 3, 1, 1, 1}},
                      {"MB-DW5", "depthwise_conv2d", {1, 192, 28, 28, 3, 3, 1, 1, 1}},
                      {"MB-DW8", "depthwise_conv2d", {1, 384, 14, 14, 3, 3, 1, 1, 1}},
                      {"MB-DW3-B16", "depthwise_conv2d", {16, 144, 56, 56, 3, 3, 1, 1, 1}},
                      {"R18-MAXPOOL", "max_pool2d", {1, 64, 112, 112, 3, 2, 1}},
                      {"R18-MAXPOOL-B8", "max_pool2d", {8, 64, 112, 112, 3, 2, 1}},
                      {"R18-GAP", "avg_pool2d", {1, 512, 7, 7, 7, 1, 0}},
                      {"GOOG-AVGPOOL", "avg_pool2d", {1, 192, 28, 28, 3, 1, 1}},
                      {"AVGPOOL", "avg_pool2d", {1, 64, 56, 56, 3, 2, 1}},
                      {"BERT-ATTN-SOFTMAX", "softmax", {1536, 128}},
                      {"BERT-SOFTMAX", "softmax", {128, 768}},
                      {"SOFTMAX-DRAM", "softmax", {8192, 2048}},
                      {"BERT-NRM", "layer_norm", {128, 768}},
                      {"NRM-DRAM", "layer_norm", {8192, 2048}}}};
  return {resnet, resnet_nchwc, bert, gemm, ansor, memops, nchwc_memops(memops)};
}

}  // namespace

const std::vector<WorkloadSet>& workload_sets() {
  static const std::vector<WorkloadSet> sets = make_sets();
  return sets;
}

const WorkloadSet& find_workload_set(const std::string& name) {
  std::string names;
  for (const WorkloadSet& set : workload_sets()) {
    if (set.name == name) return set;
    names += (names.empty() ? "" : ", ") + set.name;
  }
  fail("unknown workload set '", name, "'; the sets are: ", names);
}

}  // namespace te::ops
