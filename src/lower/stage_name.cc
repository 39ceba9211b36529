#include "lower/stage_name.h"

#include "te/ir_functor.h"

namespace te {

std::string stage_of(const Stmt& s) {
  std::string name;
  post_order_visit(
      s, [](const Expr&) {},
      [&name](const Stmt& st) {
        if (!name.empty()) return;
        if (const auto* store = st.as<TensorStoreNode>()) name = store->tensor.name();
        else if (const auto* flat = st.as<StoreNode>()) name = flat->buffer.name();
      });
  return name;
}

}  // namespace te
