// bench/onednn_util.h — oneDNN helpers the bench_tuned_cpu tables share.
#pragma once
#include <dnnl.hpp>
#include <string>

namespace bench {

// "nChw16c"-like names for the 4-D layouts oneDNN picks: nchw, nhwc, or nChw<block>c.
inline std::string layout_name(const dnnl::memory::desc& md) {
  if (md.data.format_kind != dnnl_blocked || md.data.ndims != 4) return "blocked";
  const auto& b = md.data.format_desc.blocking;
  if (b.inner_nblks == 1 && b.inner_idxs[0] == 1) return "nChw" + std::to_string(b.inner_blks[0]) + "c";
  if (b.inner_nblks == 0) return b.strides[1] == 1 ? "nhwc" : "nchw";
  return "blocked";
}

}  // namespace bench
