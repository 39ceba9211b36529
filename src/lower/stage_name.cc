#include "lower/stage_name.h"

#include <unordered_set>

#include "lower/gpu_allreduce.h"
#include "te/ir_functor.h"

namespace te {

std::string stage_of(const Stmt& s) {
  // A cross-thread reduction's own one-element buffers (te/ir.h kGpuAllreduceAttr) are
  // written first; it is named by its outputs.
  std::unordered_set<const VarNode*> scratch;
  post_order_visit(
      s, [](const Expr&) {},
      [&scratch](const Stmt& st) {
        const auto* attr = st.as<AttrStmtNode>();
        if (!attr || attr->key != kGpuAllreduceAttr) return;
        for (const GpuAllreduceValue& v : decode_gpu_allreduce(attr, "stage_of").values) {
          scratch.insert(v.red.get());
          scratch.insert(v.other.get());
        }
      });
  std::string name;
  post_order_visit(
      s, [](const Expr&) {},
      [&name, &scratch](const Stmt& st) {
        if (!name.empty()) return;
        if (const auto* store = st.as<TensorStoreNode>()) name = store->tensor.name();
        else if (const auto* flat = st.as<StoreNode>(); flat && !scratch.count(flat->buffer.get()))
          name = flat->buffer.name();
      });
  return name;
}

}  // namespace te
