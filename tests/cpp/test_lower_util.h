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

// Lowering fixtures shared by the index-width tests (test_limits.cc, test_cuda_index64.cc).
// C = A + 1 (float32) over shape.
struct AddOne {
  Tensor A, C;
};
inline AddOne add_one(const std::vector<Expr>& shape) {
  AddOne r;
  r.A = placeholder(shape, DataType::float32(), "A");
  const Tensor& A = r.A;
  r.C = compute(shape, [&](const std::vector<Var>& i) {
    std::vector<Expr> idx(i.begin(), i.end());
    return A(idx) + 1.0f;
  }, "C");
  return r;
}

// T[i, j] = A[i] * A[j], an n x n intermediate, and C[i] = sum_k T[i, k].
struct OuterSum {
  Tensor A, T, C;
};
inline OuterSum outer_sum(const Expr& n) {
  OuterSum r;
  r.A = placeholder({n}, DataType::float32(), "A");
  const Tensor& A = r.A;
  r.T = compute({n, n}, [&](const std::vector<Var>& i) { return A(i[0]) * A(i[1]); }, "T");
  const Tensor& T = r.T;
  IterVar k = reduce_axis(Range(0, n), "k");
  r.C = compute({n}, [&](const std::vector<Var>& i) { return sum(T(i[0], k), {k}); }, "C");
  return r;
}

// A DLTensor of the given shape over `data` (one element): for calls refused before any
// access, so huge shapes are tested without their memory.
inline DLTensor fake_dltensor(void* data, std::vector<int64_t>& shape, DataType dtype, DLDevice device) {
  DLTensor t{};
  t.data = data;
  t.device = device;
  t.ndim = int(shape.size());
  t.dtype = to_dlpack(dtype);
  t.shape = shape.data();
  return t;
}

}  // namespace te::testing
