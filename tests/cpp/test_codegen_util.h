// tests/cpp/test_codegen_util.h — helpers for the codegen/runtime tests: flat IR written by
// hand (buffer arguments, loads, stores, loops) and compiled with te::build(LoweredFunc).
#pragma once

#include <vector>

#include "test_util.h"

namespace te::testing {

inline BufferArg buffer_arg(const std::string& name, DataType dtype, std::vector<Expr> shape) {
  BufferArg a;
  a.name = name;
  a.data = Var(name, DataType::handle());
  a.dtype = dtype;
  a.shape = std::move(shape);
  return a;
}
// Load of index's lanes elements of b's dtype.
inline Expr load(const BufferArg& b, Expr index) {
  DataType t = b.dtype.with_lanes(index.dtype().lanes);
  return LoadNode::make(t, b.data, std::move(index));
}
inline Stmt store(const BufferArg& b, Expr value, Expr index) {
  return StoreNode::make(b.data, std::move(value), std::move(index));
}
inline Stmt loop(const Var& i, Expr extent, Stmt body, ForKind kind = ForKind::kSerial) {
  return ForNode::make(i, Expr(0), std::move(extent), kind, std::move(body));
}
inline Expr ramp(Expr base, int lanes, int stride = 1) { return RampNode::make(std::move(base), Expr(stride), lanes); }

inline LoweredFunc make_func(const std::string& name, std::vector<BufferArg> args, Stmt body,
                             std::vector<Var> size_vars = {}) {
  LoweredFunc f;
  f.name = name;
  f.args = std::move(args);
  f.size_vars = std::move(size_vars);
  f.body = std::move(body);
  return f;
}
inline Module compile(const LoweredFunc& f, const Target& target = Target()) { return build(f, target); }

}  // namespace te::testing
