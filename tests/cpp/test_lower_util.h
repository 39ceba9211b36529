// tests/cpp/test_lower_util.h — helpers for the lowering pass tests: flat float buffers run
// through the Interpreter, and counting nodes of a kind in a statement.
#pragma once

#include <deque>
#include <functional>
#include <map>
#include <vector>

#include "ir/interpreter.h"
#include "te/ir_functor.h"
#include "test_util.h"

namespace te::testing {

// Float32 arrays bound to handle Vars (buffer data pointers) plus int32 scalar bindings.
struct FlatMemory {
  std::deque<std::pair<Var, std::vector<float>>> buffers;  // deque: add() references stay valid
  std::vector<std::pair<Var, int64_t>> scalars;

  std::vector<float>& add(const Var& data, size_t numel, uint64_t seed) {
    std::vector<float> values(numel);
    std::mt19937_64 rng(seed);
    std::uniform_real_distribution<float> dist(-1.0f, 1.0f);
    for (float& v : values) v = dist(rng);
    buffers.emplace_back(data, values);
    return buffers.back().second;
  }
  std::vector<float>& get(const Var& data) {
    for (auto& [v, values] : buffers)
      if (v.same_as(data)) return values;
    throw InternalError("FlatMemory: no buffer " + data.name());
  }
  // Runs s with the buffers bound (modifying them in place).
  void run(const Stmt& s) {
    Interpreter interp;
    for (auto& [v, values] : buffers)
      interp.bind_buffer(v, InterpBuffer{values.data(), DataType::float32(), int64_t(values.size())});
    for (auto& [v, value] : scalars) interp.bind(v, Value::from_int(v.dtype(), value));
    interp.run(s);
  }
};

// Number of statements / expressions in s for which pred holds.
inline int count_stmts(const Stmt& s, const std::function<bool(const Stmt&)>& pred) {
  int n = 0;
  post_order_visit(s, [](const Expr&) {}, [&](const Stmt& st) { n += pred(st) ? 1 : 0; });
  return n;
}
inline int count_exprs(const Stmt& s, const std::function<bool(const Expr&)>& pred) {
  int n = 0;
  post_order_visit(s, [&](const Expr& e) { n += pred(e) ? 1 : 0; }, [](const Stmt&) {});
  return n;
}
inline int count_for(const Stmt& s, ForKind kind) {
  return count_stmts(s, [kind](const Stmt& st) {
    const auto* f = st.as<ForNode>();
    return f && f->for_kind == kind;
  });
}

}  // namespace te::testing
