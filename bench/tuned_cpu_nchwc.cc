// bench/tuned_cpu_nchwc.cc — bench_tuned_cpu's rows for the blocked operators
// depthwise_conv2d_nchwc, max_pool2d_nchwc and avg_pool2d_nchwc against oneDNN in the same
// layout: median after a warm-up (bench_util.h), te's result checked against oneDNN's before
// anything is timed, "vs" = oneDNN's time over te's.
//
// te's NCHW16c buffer [N, C/16, H, W, 16] is byte for byte oneDNN's nChw16c, so oneDNN's
// primitive reads the very array te's kernel reads (made by te's nchw_to_nchwc kernel) and the
// two outputs are compared element for element: no reorder is timed or even needed. For
// depthwise conv2d oneDNN is also asked for its own pick (format "any", nhwc here), its input
// reordered once outside the timing. te's layout transforms (NCHW -> NCHW16c of the input,
// NCHW16c -> NCHW of the output, the weight pack) are their own kernels, timed apart.
#include "tuned_cpu_nchwc.h"

#include <dnnl.hpp>
#include <unordered_map>

#include "bench_util.h"
#include "memops_table.h"
#include "onednn_util.h"
#include "te/ops.h"
#include "te/te.h"

namespace nchwc {
namespace {

namespace at = te::autotune;
using namespace dnnl;
using tag = memory::format_tag;
using bench::median_seconds;
using bench::random_array;
using bench::const_shape;
using bench::layout_name;

struct Row : bench::MemopsRow {
  double blocked_s = 0, own_s = 0, to_blocked_s = 0, to_nchw_s = 0, pack_s = 0;
  std::string own_layout;
};
std::vector<Row> rows;

// A layout transform of `input` as its own kernel (te::ops::schedule_layout_transform).
struct Transform {
  te::Module f;
  te::NDArray out;
  Transform(const te::Tensor& input, const te::Tensor& transform, const char* name)
      : f(te::build(te::ops::schedule_layout_transform(transform), {input, transform}, "llvm", name)),
        out(te::NDArray::empty(const_shape(transform))) {}
  double run_and_time(te::NDArray& in) {
    f({in, out});
    return median_seconds([&] { f({in, out}); });
  }
};

// Runs a primitive once per call and waits.
struct Prim {
  primitive p;
  std::unordered_map<int, memory> args;
  void operator()(stream& s) {
    p.execute(s, args);
    s.wait();
  }
};

void bench_depthwise(Row& row, const at::Instance& best, const std::vector<int64_t>& args) {
  const int64_t n = args[0], c = args[1], h = args[2], w = args[3], r = args[4], s = args[5], stride = args[6],
                pad = args[7], dilation = args[8];
  te::Tensor data_t = te::placeholder({n, c, h, w}, te::DataType::float32(), "data");
  te::Tensor weight_t = te::placeholder({c, 1, r, s}, te::DataType::float32(), "weight");
  Transform to_blocked(data_t, te::ops::nchw_to_nchwc(data_t, te::ops::kNchwcBlock), "to_nchwc");
  Transform pack(weight_t, te::ops::depthwise_pack_weight(weight_t), "pack_weight");
  te::NDArray data = random_array({n, c, h, w}, 1), weight = random_array({c, 1, r, s}, 2);
  row.to_blocked_s = to_blocked.run_and_time(data);
  row.pack_s = pack.run_and_time(weight);
  te::Module f = te::build(best.schedule, best.args, "llvm", "tuned");
  te::NDArray out = te::NDArray::empty(const_shape(best.args[2]));
  te::Tensor out_t = te::placeholder(best.args[2].shape(), te::DataType::float32(), "out_nchwc");
  Transform to_nchw(out_t, te::ops::nchwc_to_nchw(out_t), "to_nchw");
  auto run_te = [&] { f({to_blocked.out, pack.out, out}); };
  run_te();
  row.to_nchw_s = to_nchw.run_and_time(out);

  engine eng(engine::kind::cpu, 0);
  stream strm(eng);
  const std::vector<int64_t> os = const_shape(best.args[2]);
  const memory::dims src_dims{n, c, h, w}, wei_dims{c, 1, 1, r, s}, dst_dims{n, c, os[2], os[3]};
  auto make = [&](tag layout, Prim& prim, memory& src, memory& dst) {
    memory::desc src_md(src_dims, memory::data_type::f32, layout);
    memory::desc wei_md(wei_dims, memory::data_type::f32, tag::any);
    memory::desc dst_md(dst_dims, memory::data_type::f32, layout);
    convolution_forward::desc desc(prop_kind::forward_inference, algorithm::convolution_direct, src_md, wei_md,
                                   dst_md, {stride, stride}, {dilation - 1, dilation - 1}, {pad, pad}, {pad, pad});
    convolution_forward::primitive_desc pd(desc, eng);
    memory user_wei({wei_dims, memory::data_type::f32, tag::goihw}, eng, weight.data());
    memory wei(pd.weights_desc(), eng);
    reorder(user_wei, wei).execute(strm, user_wei, wei);
    memory user_src({src_dims, memory::data_type::f32, tag::nchw}, eng, data.data());
    if (layout == tag::nChw16c) {
      src = memory(pd.src_desc(), eng, to_blocked.out.data());  // te's own NCHW16c array
    } else {
      src = memory(pd.src_desc(), eng);
      reorder(user_src, src).execute(strm, user_src, src);
    }
    dst = memory(pd.dst_desc(), eng);
    prim = {convolution_forward(pd), {{DNNL_ARG_SRC, src}, {DNNL_ARG_WEIGHTS, wei}, {DNNL_ARG_DST, dst}}};
    return pd;
  };
  Prim blocked, own;
  memory bsrc, bdst, osrc, odst;
  make(tag::nChw16c, blocked, bsrc, bdst);
  auto own_pd = make(tag::any, own, osrc, odst);
  row.own_layout = layout_name(own_pd.src_desc());
  blocked(strm);
  own(strm);
  row.check = bench::compare_close(out.data_as<float>(), static_cast<const float*>(bdst.get_data_handle()),
                                   out.numel(), r * s, "oneDNN nChw16c");
  // oneDNN's own pick, back in NCHW, against te's output through te's back transform.
  te::NDArray own_nchw = te::NDArray::empty({n, c, os[2], os[3]});
  memory own_user({dst_dims, memory::data_type::f32, tag::nchw}, eng, own_nchw.data());
  reorder(odst, own_user).execute(strm, odst, own_user);
  strm.wait();
  if (row.check.empty())
    row.check = bench::compare_close(to_nchw.out.data_as<float>(), own_nchw.data_as<float>(), own_nchw.numel(),
                                     r * s, "oneDNN own layout");
  row.te_s = median_seconds(run_te);
  row.blocked_s = median_seconds([&] { blocked(strm); });
  row.own_s = median_seconds([&] { own(strm); });
}

void bench_pool(Row& row, bool is_max, const at::Instance& best, const std::vector<int64_t>& args) {
  const int64_t n = args[0], c = args[1], h = args[2], w = args[3], kernel = args[4], stride = args[5], pad = args[6];
  te::Tensor data_t = te::placeholder({n, c, h, w}, te::DataType::float32(), "data");
  Transform to_blocked(data_t, te::ops::nchw_to_nchwc(data_t, te::ops::kNchwcBlock), "to_nchwc");
  te::NDArray data = random_array({n, c, h, w}, 1);
  row.to_blocked_s = to_blocked.run_and_time(data);
  te::Module f = te::build(best.schedule, best.args, "llvm", "tuned");
  const std::vector<int64_t> os = const_shape(best.args[1]);
  te::NDArray out = te::NDArray::empty(os);
  te::Tensor out_t = te::placeholder(best.args[1].shape(), te::DataType::float32(), "out_nchwc");
  Transform to_nchw(out_t, te::ops::nchwc_to_nchw(out_t), "to_nchw");
  auto run_te = [&] { f({to_blocked.out, out}); };
  run_te();
  row.to_nchw_s = to_nchw.run_and_time(out);

  engine eng(engine::kind::cpu, 0);
  stream strm(eng);
  const memory::dims src_dims{n, c, h, w}, dst_dims{n, c, os[2], os[3]};
  memory::desc src_md(src_dims, memory::data_type::f32, tag::nChw16c);
  memory::desc dst_md(dst_dims, memory::data_type::f32, tag::nChw16c);
  // te's avg_pool2d_nchwc counts padded cells (count_include_pad), as the NCHW template.
  pooling_forward::desc desc(prop_kind::forward_inference,
                             is_max ? algorithm::pooling_max : algorithm::pooling_avg_include_padding, src_md, dst_md,
                             {stride, stride}, {kernel, kernel}, {pad, pad}, {pad, pad});
  pooling_forward::primitive_desc pd(desc, eng);
  memory src(pd.src_desc(), eng, to_blocked.out.data()), dst(pd.dst_desc(), eng);
  Prim blocked{pooling_forward(pd), {{DNNL_ARG_SRC, src}, {DNNL_ARG_DST, dst}}};
  if (pd.workspace_desc().get_size()) blocked.args[DNNL_ARG_WORKSPACE] = memory(pd.workspace_desc(), eng);
  blocked(strm);
  row.own_layout = "nChw16c";
  row.check = bench::compare_close(out.data_as<float>(), static_cast<const float*>(dst.get_data_handle()),
                                   out.numel(), kernel * kernel, "oneDNN nChw16c");
  row.te_s = median_seconds(run_te);
  row.blocked_s = median_seconds([&] { blocked(strm); });
  row.own_s = row.blocked_s;
}

}  // namespace

bool handles(const std::string& op) {
  return op == "depthwise_conv2d_nchwc" || op == "max_pool2d_nchwc" || op == "avg_pool2d_nchwc";
}

void bench(const std::string& op, const at::Task& task, const at::Instance& best, const std::vector<int64_t>& args) {
  Row row;
  row.op = op, row.label = bench::workload_label(op, args, "cpu-memops-nchwc"), row.workload = task.workload_key;
  row.bytes = bench::argument_bytes(best.args);
  if (op == "depthwise_conv2d_nchwc") bench_depthwise(row, best, args);
  else bench_pool(row, op == "max_pool2d_nchwc", best, args);
  rows.push_back(row);
}

void print_tables() {
  bench::print_memops_tables<Row>(
      rows, {"depthwise_conv2d_nchwc", "max_pool2d_nchwc", "avg_pool2d_nchwc"}, [](const std::string& op) {
        using bench::format;
        using Table = bench::MemopsTable<Row>;
        // Depthwise adds oneDNN's own pick of layout and te's weight pack.
        const bool depthwise = op == "depthwise_conv2d_nchwc";
        Table t;
        t.title = op + " (fp32; te and oneDNN on the same NCHW16c arrays, no reorders timed; " +
                  (depthwise ? "oneDNN own = its pick for format any (input reordered once, untimed);" : "") +
                  " te's layout transforms are their own kernels: to = NCHW -> NCHW16c input, back = NCHW16c -> "
                  "NCHW output" +
                  (depthwise ? ", pack = the weight pack" : "") + ")";
        t.columns = {{"oneDNN nChw16c ms", [](const Row& r) { return format("%.4f", r.blocked_s * 1e3); }},
                     {"vs oneDNN nChw16c", [](const Row& r) { return format("%.2f", r.blocked_s / r.te_s); }}};
        if (depthwise)
          t.columns.insert(t.columns.end(),
                           {{"oneDNN own ms (layout)",
                             [](const Row& r) { return format("%.4f (%s)", r.own_s * 1e3, r.own_layout.c_str()); }},
                            {"vs oneDNN own", [](const Row& r) { return format("%.2f", r.own_s / r.te_s); }}});
        t.columns.insert(t.columns.end(),
                         {{"te to ms", [](const Row& r) { return format("%.4f", r.to_blocked_s * 1e3); }},
                          {"te back ms", [](const Row& r) { return format("%.4f", r.to_nchw_s * 1e3); }}});
        if (depthwise) t.columns.push_back({"te pack ms", [](const Row& r) { return format("%.4f", r.pack_s * 1e3); }});
        t.means = {{"oneDNN nChw16c", [](const Row& r) { return r.blocked_s / r.te_s; }}};
        if (depthwise) t.means.push_back({"oneDNN own layout", [](const Row& r) { return r.own_s / r.te_s; }});
        return t;
      });
}

}  // namespace nchwc
