// bench/tuned_cpu.cc — te's tuned kernels next to oneDNN and OpenBLAS, in one process.
//
//   bench_tuned_cpu LOG [LOG ...]          (threads from TE_NUM_THREADS / OMP_NUM_THREADS)
//
// For every matmul and conv2d workload in the logs, te's kernel is the best valid record
// (apply_history_best: the schedule replayed from its steps); it is compared on the same
// random inputs with
//   matmul: oneDNN dnnl_sgemm and OpenBLAS cblas_sgemm (run it with OPENBLAS_CORETYPE=SkylakeX);
//   batch_matmul: oneDNN's matmul primitive with a batch dimension, OpenBLAS one sgemm per batch;
//   softmax, layer_norm: oneDNN's softmax_forward and layer_normalization_forward;
//   depthwise_conv2d, max_pool2d, avg_pool2d: oneDNN's convolution (groups = channels) and
//           pooling primitives, blocked and on NCHW (tuned_cpu_memops.cc);
//   their NCHW16c forms (*_nchwc): oneDNN's primitives on the same nChw16c arrays, te's layout
//           transforms timed apart (tuned_cpu_nchwc.cc);
//   conv2d: the oneDNN convolution primitive in the layouts it chooses itself (format "any";
//           the reorders into and out of them are done once, outside the timing), and the
//           same primitive on plain NCHW tensors (what a caller with NCHW data gets without
//           reordering). te's kernel takes NCHW data and pre-packed weights (OIHW16o); the
//           packing is its own kernel, timed apart and charged to te in the NCHW comparison;
//   conv2d_nchwc: the same oneDNN primitive in its own layouts, te's blocked kernel in its own,
//           with te's layout transforms and an end-to-end NCHW -> NCHW column for both
//           (tuned_cpu_conv_nchwc.cc).
// Every te result is checked against oneDNN's before it is timed. Times: median of 15
// repeats after a warm-up, each repeat long enough to last 20 ms. "vs oneDNN" is oneDNN's
// median time over te's (above 1: te is faster). The last line is the geometric mean of
// te's ratio over the conv layers.
#include <cblas.h>
#include <dnnl.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <dnnl.hpp>
#include <functional>
#include <map>
#include <memory>
#include <random>
#include <set>

#include "te/autotune/log.h"
#include "te/autotune/task.h"
#include "te/ops.h"
#include "te/te.h"
#include "bench_util.h"
#include "tuned_cpu_conv_nchwc.h"
#include "tuned_cpu_memops.h"
#include "tuned_cpu_nchwc.h"

namespace at = te::autotune;

namespace {

using bench::const_shape;
using bench::median_seconds;
using bench::random_array;

// Max |te - ref| relative to the reduction length; "" when they agree.
std::string compare(const float* got, const float* ref, int64_t n, int64_t reduction) {
  const double tolerance = 1e-5 * double(reduction) + 1e-4;
  for (int64_t i = 0; i < n; ++i)
    if (!(std::fabs(double(got[i]) - double(ref[i])) <= tolerance * (1 + std::fabs(double(ref[i])))))
      return "MISMATCH at " + std::to_string(i) + ": te " + std::to_string(got[i]) + " vs oneDNN " +
             std::to_string(ref[i]);
  return "";
}

struct Row {
  std::string label, workload;
  double flop = 0;
  double te_s = 0, onednn_s = 0, other_s = 0;  // other: OpenBLAS (matmul) or oneDNN on NCHW (conv)
  double transform_s = 0;                       // te's weight packing (conv), done once
  std::string check;
  std::vector<int64_t> args;
};

std::string label_of(const std::string& op, const std::vector<int64_t>& args) {
  for (const te::ops::WorkloadSet& set : te::ops::workload_sets())
    for (const te::ops::Workload& w : set.workloads)
      if (w.op == op && w.args == args) return w.label;
  return op;
}

// matmul (m, n, k[, trans_a, trans_b]): A stored [k, m] when trans_a, B [n, k] when trans_b.
Row bench_matmul(const at::Task& task, const at::Instance& best, const std::vector<int64_t>& args) {
  const int64_t m = args[0], n = args[1], k = args[2];
  const bool ta = args.size() == 5 && args[3] == 1, tb = args.size() == 5 && args[4] == 1;
  te::Module f = te::build(best.schedule, best.args, "llvm", "tuned");
  te::NDArray a = random_array(ta ? std::vector<int64_t>{k, m} : std::vector<int64_t>{m, k}, 1);
  te::NDArray b = random_array(tb ? std::vector<int64_t>{n, k} : std::vector<int64_t>{k, n}, 2);
  te::NDArray c = te::NDArray::empty({m, n}), ref = te::NDArray::empty({m, n});
  const int64_t lda = ta ? m : k, ldb = tb ? k : n;
  auto onednn = [&] {
    dnnl_sgemm(ta ? 'T' : 'N', tb ? 'T' : 'N', m, n, k, 1.0f, a.data_as<float>(), lda, b.data_as<float>(), ldb, 0.0f,
               ref.data_as<float>(), n);
  };
  auto openblas = [&] {
    cblas_sgemm(CblasRowMajor, ta ? CblasTrans : CblasNoTrans, tb ? CblasTrans : CblasNoTrans, int(m), int(n), int(k),
                1.0f, a.data_as<float>(), int(lda), b.data_as<float>(), int(ldb), 0.0f, c.data_as<float>(), int(n));
  };
  Row row;
  row.label = label_of("matmul", args), row.workload = task.workload_key, row.flop = task.flop;
  onednn();
  f({a, b, c});
  row.check = compare(c.data_as<float>(), ref.data_as<float>(), m * n, k);
  std::vector<double> medians = bench::median_seconds_interleaved({[&] { f({a, b, c}); }, onednn, openblas});
  row.te_s = medians[0], row.onednn_s = medians[1], row.other_s = medians[2];
  return row;
}

Row bench_conv(const at::Task& task, const at::Instance& best, const std::vector<int64_t>& args) {
  using namespace dnnl;
  using tag = memory::format_tag;
  const int64_t n = args[0], c = args[1], h = args[2], w = args[3], k = args[4], r = args[5], s = args[6],
                stride = args[7], pad = args[8];
  const int64_t oh = (h + 2 * pad - r) / stride + 1, ow = (w + 2 * pad - s) / stride + 1;
  te::Module f = te::build(best.schedule, best.args, "llvm", "tuned");
  te::NDArray data = random_array({n, c, h, w}, 1), weight = random_array({k, c, r, s}, 2);
  te::NDArray out = te::NDArray::empty(const_shape(best.args[2]));
  // te's CPU kernel takes its weight pre-packed (OIHW16o): the layout transform is its own
  // kernel, run once like oneDNN's weight reorder, and timed apart.
  te::Tensor weight_kcrs = te::placeholder({k, c, r, s}, te::DataType::float32(), "weight");
  te::Tensor packed = te::ops::conv2d_pack_weight(weight_kcrs);
  te::Schedule pack_schedule = te::create_schedule({packed.op()});
  const auto* pack_op = packed.op().as<te::ComputeOpNode>();
  pack_schedule[packed].vectorize(pack_op->axis[4]);
  pack_schedule[packed].parallel(pack_op->axis[0]);
  te::Module pack = te::build(pack_schedule, {weight_kcrs, packed}, "llvm", "pack_weight");
  te::NDArray weight_packed = te::NDArray::empty(const_shape(packed));
  pack({weight, weight_packed});

  engine eng(engine::kind::cpu, 0);
  stream strm(eng);
  const memory::dims src_dims{n, c, h, w}, wei_dims{k, c, r, s}, dst_dims{n, k, oh, ow};
  const memory::dims strides{stride, stride}, padding{pad, pad};
  auto make_primitive = [&](tag src_tag, tag wei_tag, tag dst_tag) {
    memory::desc src_md(src_dims, memory::data_type::f32, src_tag);
    memory::desc wei_md(wei_dims, memory::data_type::f32, wei_tag);
    memory::desc dst_md(dst_dims, memory::data_type::f32, dst_tag);
    convolution_forward::desc desc(prop_kind::forward_inference, algorithm::convolution_direct, src_md, wei_md,
                                   dst_md, strides, padding, padding);
    return convolution_forward::primitive_desc(desc, eng);
  };
  memory user_src({src_dims, memory::data_type::f32, tag::nchw}, eng, data.data());
  memory user_wei({wei_dims, memory::data_type::f32, tag::oihw}, eng, weight.data());
  te::NDArray ref = te::NDArray::empty({n, k, oh, ow});
  memory user_dst({dst_dims, memory::data_type::f32, tag::nchw}, eng, ref.data());

  // oneDNN in its own layouts; reorders once, outside the timing.
  auto blocked = make_primitive(tag::any, tag::any, tag::any);
  memory src(blocked.src_desc(), eng), wei(blocked.weights_desc(), eng), dst(blocked.dst_desc(), eng);
  reorder(user_src, src).execute(strm, user_src, src);
  reorder(user_wei, wei).execute(strm, user_wei, wei);
  convolution_forward conv(blocked);
  auto run_blocked = [&] {
    conv.execute(strm, {{DNNL_ARG_SRC, src}, {DNNL_ARG_WEIGHTS, wei}, {DNNL_ARG_DST, dst}});
    strm.wait();
  };
  run_blocked();
  reorder(dst, user_dst).execute(strm, dst, user_dst);
  strm.wait();
  // oneDNN straight on NCHW / OIHW tensors.
  te::NDArray plain_out = te::NDArray::empty({n, k, oh, ow});
  memory plain_dst({dst_dims, memory::data_type::f32, tag::nchw}, eng, plain_out.data());
  convolution_forward plain(make_primitive(tag::nchw, tag::oihw, tag::nchw));
  auto run_plain = [&] {
    plain.execute(strm, {{DNNL_ARG_SRC, user_src}, {DNNL_ARG_WEIGHTS, user_wei}, {DNNL_ARG_DST, plain_dst}});
    strm.wait();
  };

  Row row;
  row.label = label_of("conv2d", args), row.workload = task.workload_key, row.flop = task.flop;
  row.args = args;
  f({data, weight_packed, out});
  row.check = compare(out.data_as<float>(), ref.data_as<float>(), n * k * oh * ow, c * r * s);
  row.te_s = median_seconds([&] { f({data, weight_packed, out}); });
  row.transform_s = median_seconds([&] { pack({weight, weight_packed}); });
  row.onednn_s = median_seconds(run_blocked);
  row.other_s = median_seconds(run_plain);
  return row;
}

// softmax / layer_norm over the rows of [m, n] against oneDNN's softmax_forward and
// batch_matmul (b, m, n, k, trans_a, trans_b) against oneDNN's matmul primitive with a batch
// dimension (the transposed operands as strided layouts, acb); other = OpenBLAS, one
// cblas_sgemm per batch.
Row bench_batch_matmul(const at::Task& task, const at::Instance& best, const std::vector<int64_t>& args) {
  using namespace dnnl;
  const int64_t bs = args[0], m = args[1], n = args[2], k = args[3];
  const bool ta = args[4] == 1, tb = args[5] == 1;
  te::Module f = te::build(best.schedule, best.args, "llvm", "tuned");
  te::NDArray a = random_array(ta ? std::vector<int64_t>{bs, k, m} : std::vector<int64_t>{bs, m, k}, 1);
  te::NDArray b = random_array(tb ? std::vector<int64_t>{bs, n, k} : std::vector<int64_t>{bs, k, n}, 2);
  te::NDArray c = te::NDArray::empty({bs, m, n}), ref = te::NDArray::empty({bs, m, n});
  engine eng(engine::kind::cpu, 0);
  stream strm(eng);
  using tag = memory::format_tag;
  memory::desc a_md({bs, m, k}, memory::data_type::f32, ta ? tag::acb : tag::abc);
  memory::desc b_md({bs, k, n}, memory::data_type::f32, tb ? tag::acb : tag::abc);
  memory::desc c_md({bs, m, n}, memory::data_type::f32, tag::abc);
  matmul prim(matmul::primitive_desc(matmul::desc(a_md, b_md, c_md), eng));
  memory a_mem(a_md, eng, a.data()), b_mem(b_md, eng, b.data()), c_mem(c_md, eng, ref.data());
  auto onednn = [&] {
    prim.execute(strm, {{DNNL_ARG_SRC, a_mem}, {DNNL_ARG_WEIGHTS, b_mem}, {DNNL_ARG_DST, c_mem}});
    strm.wait();
  };
  const int64_t lda = ta ? m : k, ldb = tb ? k : n;
  auto openblas = [&] {
    for (int64_t i = 0; i < bs; ++i)
      cblas_sgemm(CblasRowMajor, ta ? CblasTrans : CblasNoTrans, tb ? CblasTrans : CblasNoTrans, int(m), int(n),
                  int(k), 1.0f, a.data_as<float>() + i * m * k, int(lda), b.data_as<float>() + i * k * n, int(ldb),
                  0.0f, c.data_as<float>() + i * m * n, int(n));
  };
  Row row;
  row.label = label_of("batch_matmul", args), row.workload = task.workload_key, row.flop = task.flop;
  onednn();
  f({a, b, c});
  row.check = compare(c.data_as<float>(), ref.data_as<float>(), bs * m * n, k);
  std::vector<double> medians = bench::median_seconds_interleaved({[&] { f({a, b, c}); }, onednn, openblas});
  row.te_s = medians[0], row.onednn_s = medians[1], row.other_s = medians[2];
  return row;
}

// layer_normalization_forward (with scale and shift) on the same plain-layout tensors.
// other_s holds the bytes of the arguments, for the GB/s column.
Row bench_rowwise(const std::string& op, const at::Task& task, const at::Instance& best,
                  const std::vector<int64_t>& args) {
  using namespace dnnl;
  const int64_t m = args[0], n = args[1];
  const bool layer_norm = op == "layer_norm";
  te::Module f = te::build(best.schedule, best.args, "llvm", "tuned");
  te::NDArray x = random_array({m, n}, 1), gamma = random_array({n}, 2), beta = random_array({n}, 3);
  te::NDArray out = te::NDArray::empty({m, n}), ref = te::NDArray::empty({m, n});
  std::vector<te::NDArray> te_args = layer_norm ? std::vector<te::NDArray>{x, gamma, beta, out}
                                                : std::vector<te::NDArray>{x, out};
  engine eng(engine::kind::cpu, 0);
  stream strm(eng);
  memory::desc md({m, n}, memory::data_type::f32, memory::format_tag::ab);
  memory src(md, eng, x.data()), dst(md, eng, ref.data());
  std::function<void()> onednn;
  std::unique_ptr<primitive> prim;
  memory scale, shift, mean, variance;
  if (layer_norm) {
    layer_normalization_forward::desc desc(prop_kind::forward_inference, md, 1e-5f,
                                           normalization_flags::use_scale | normalization_flags::use_shift);
    layer_normalization_forward::primitive_desc pd(desc, eng);
    memory::desc vec({n}, memory::data_type::f32, memory::format_tag::a);
    scale = memory(vec, eng, gamma.data());
    shift = memory(vec, eng, beta.data());
    mean = memory(pd.mean_desc(), eng);
    variance = memory(pd.variance_desc(), eng);
    prim = std::make_unique<layer_normalization_forward>(pd);
    onednn = [&] {
      prim->execute(strm, {{DNNL_ARG_SRC, src}, {DNNL_ARG_DST, dst}, {DNNL_ARG_SCALE, scale},
                           {DNNL_ARG_SHIFT, shift}, {DNNL_ARG_MEAN, mean}, {DNNL_ARG_VARIANCE, variance}});
      strm.wait();
    };
  } else {
    softmax_forward::desc desc(prop_kind::forward_inference, md, 1);
    prim = std::make_unique<softmax_forward>(softmax_forward::primitive_desc(desc, eng));
    onednn = [&] {
      prim->execute(strm, {{DNNL_ARG_SRC, src}, {DNNL_ARG_DST, dst}});
      strm.wait();
    };
  }
  Row row;
  row.label = op, row.workload = task.workload_key, row.flop = task.flop;
  onednn();
  f(te_args);
  row.check = compare(out.data_as<float>(), ref.data_as<float>(), m * n, 1);
  row.te_s = median_seconds([&] { f(te_args); });
  row.onednn_s = median_seconds(onednn);
  for (const te::Tensor& t : best.args) row.other_s += double(te::NDArray::empty(const_shape(t)).nbytes());
  return row;
}

void print_rowwise_table(const std::vector<Row>& rows) {
  if (rows.empty()) return;
  std::printf("\nrow-wise operators over [m, n] (fp32; oneDNN softmax_forward / layer_normalization_forward on the "
              "same plain tensors)\n\n| op | workload | te ms | oneDNN ms | te GB/s | vs oneDNN | check |\n"
              "|---|---|---:|---:|---:|---:|---|\n");
  for (const Row& r : rows)
    std::printf("| %s | %s | %.4f | %.4f | %.1f | %.2f | %s |\n", r.label.c_str(), r.workload.c_str(), r.te_s * 1e3,
                r.onednn_s * 1e3, r.other_s / r.te_s / 1e9, r.onednn_s / r.te_s, r.check.empty() ? "ok" : r.check.c_str());
}

// With a layout transform (conv: te's weight packing), its time gets a column, and the
// comparison with `other` (oneDNN on plain NCHW tensors) charges it to te: te kernel + packing.
// A caller with NCHW tensors, NCHW output wanted, weights packed once beforehand: the faster of
// te's two paths (conv2d on NCHW; data pack + conv2d_nchwc + unpack) against the faster of
// oneDNN's (the primitive on NCHW tensors; reorder + blocked primitive + reorder). Layers that
// both logs tuned only.
void print_conv_end_to_end(const std::vector<Row>& convs, const std::vector<conv_nchwc::EndToEnd>& blocked) {
  std::vector<std::pair<const Row*, const conv_nchwc::EndToEnd*>> pairs;
  for (const Row& r : convs)
    for (const conv_nchwc::EndToEnd& e : blocked)
      if (e.conv2d_args == r.args) pairs.emplace_back(&r, &e);
  if (pairs.empty()) return;
  std::printf(
      "\nconv2d NCHW in -> NCHW out, the faster path of each side (te: conv2d, or pack + conv2d_nchwc + unpack; "
      "oneDNN: the primitive on NCHW, or reorder + blocked primitive + reorder; weights packed once outside)\n\n"
      "| layer | te conv2d ms | te via NCHWc ms | oneDNN NCHW ms | oneDNN via blocked ms | te best ms | oneDNN best ms "
      "| vs oneDNN |\n|---|---:|---:|---:|---:|---:|---:|---:|\n");
  double log_sum = 0;
  for (const auto& [r, e] : pairs) {
    const double te_best = std::min(r->te_s, e->te_s), onednn_best = std::min(r->other_s, e->onednn_s);
    log_sum += std::log(onednn_best / te_best);
    std::printf("| %s | %.3f | %.3f | %.3f | %.3f | %.3f | %.3f | %.2f |\n", r->label.c_str(), r->te_s * 1e3,
                e->te_s * 1e3, r->other_s * 1e3, e->onednn_s * 1e3, te_best * 1e3, onednn_best * 1e3,
                onednn_best / te_best);
  }
  std::printf("\ngeometric mean of te vs oneDNN, NCHW -> NCHW, best path each: %.2f\n",
              std::exp(log_sum / double(pairs.size())));
}

void print_table(const char* title, const char* other, const std::vector<Row>& rows) {
  if (rows.empty()) return;
  const bool transform = rows.front().transform_s > 0;
  std::printf("\n%s\n\n| layer | workload | te ms |%s oneDNN ms | %s ms | te GFLOP/s | vs oneDNN | vs %s%s | check |\n"
              "|---|---|---:|%s---:|---:|---:|---:|---:|---|\n",
              title, transform ? " te weight pack ms |" : "", other, other, transform ? " (te + pack)" : "",
              transform ? "---:|" : "");
  double log_sum = 0, log_sum_other = 0;
  for (const Row& r : rows) {
    const double te_with_transform = r.te_s + r.transform_s;
    log_sum += std::log(r.onednn_s / r.te_s);
    log_sum_other += std::log(r.other_s / te_with_transform);
    std::printf("| %s | %s | %.3f |", r.label.c_str(), r.workload.c_str(), r.te_s * 1e3);
    if (transform) std::printf(" %.3f |", r.transform_s * 1e3);
    std::printf(" %.3f | %.3f | %.1f | %.2f | %.2f | %s |\n", r.onednn_s * 1e3, r.other_s * 1e3,
                r.flop / r.te_s / 1e9, r.onednn_s / r.te_s, r.other_s / te_with_transform,
                r.check.empty() ? "ok" : r.check.c_str());
  }
  if (rows.size() > 1)
    std::printf("\ngeometric mean of te vs oneDNN: %.2f; vs %s%s: %.2f\n", std::exp(log_sum / double(rows.size())),
                other, transform ? " (te + pack)" : "", std::exp(log_sum_other / double(rows.size())));
}

int run(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: %s LOG [LOG ...]\n", argv[0]);
    return 1;
  }
  te::ops::register_builtin_templates();
  std::vector<Row> matmuls, convs, rowwise;
  std::set<std::string> seen;
  for (int i = 1; i < argc; ++i) {
    const at::LogContents log = at::read_log(argv[i]);
    for (const at::Record& record : log.records) {
      if (record.target.rfind("llvm", 0) != 0 || !seen.insert(record.workload_key).second) continue;
      const std::optional<at::TemplateKey> key = at::parse_template_key(record.workload_key);
      if (!key) continue;
      const std::string& op = key->name;
      const std::vector<int64_t>& args = key->args;
      if (op != "matmul" && op != "batch_matmul" && op != "conv2d" && op != "softmax" && op != "layer_norm" &&
          !memops::handles(op) && !nchwc::handles(op) &&
          !conv_nchwc::handles(op))
        continue;
      at::Task task = at::create_task(op, args, record.target);
      if (!at::best_record(log.records, task.workload_key, task.target.str())) continue;
      at::Instance best = at::apply_history_best(argv[i], task);
      std::fprintf(stderr, "bench_tuned_cpu: %s ...\n", task.workload_key.c_str());
      if (op == "matmul") matmuls.push_back(bench_matmul(task, best, args));
      else if (op == "batch_matmul") matmuls.push_back(bench_batch_matmul(task, best, args));
      else if (op == "conv2d") convs.push_back(bench_conv(task, best, args));
      else if (memops::handles(op)) memops::bench(op, task, best, args);
      else if (nchwc::handles(op)) nchwc::bench(op, task, best, args);
      else if (conv_nchwc::handles(op)) conv_nchwc::bench(op, task, best, args);
      else rowwise.push_back(bench_rowwise(op, task, best, args));
    }
  }
  const char* threads = std::getenv("TE_NUM_THREADS");
  std::printf("te tuned kernels vs oneDNN %d.%d, TE_NUM_THREADS=%s OMP_NUM_THREADS=%s OPENBLAS_CORETYPE=%s\n",
              dnnl_version()->major, dnnl_version()->minor, threads ? threads : "(all)",
              std::getenv("OMP_NUM_THREADS") ? std::getenv("OMP_NUM_THREADS") : "(all)",
              std::getenv("OPENBLAS_CORETYPE") ? std::getenv("OPENBLAS_CORETYPE") : "(auto)");
  print_table("matmul, batch_matmul (fp32; oneDNN dnnl_sgemm / matmul primitive with a batch dimension; other = "
              "OpenBLAS cblas_sgemm, per batch)",
              "OpenBLAS", matmuls);
  print_table("conv2d NCHW (fp32; oneDNN = its own blocked layouts, reorders excluded; other = oneDNN on NCHW)",
              "oneDNN NCHW", convs);
  conv_nchwc::print_table();
  print_conv_end_to_end(convs, conv_nchwc::end_to_end());
  print_rowwise_table(rowwise);
  memops::print_tables();
  nchwc::print_tables();
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  try {
    return run(argc, argv);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "bench_tuned_cpu: %s\n", e.what());
    return 1;
  }
}
