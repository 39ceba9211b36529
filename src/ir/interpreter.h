// src/ir/interpreter.h — executes IR directly, without a compiler. Used by the reference
// evaluator (te compute bodies: TensorRead and Reduce) and by per-pass tests (flat IR:
// Load/Store/Allocate, vector lanes included), so a pass can be checked by running its input
// and output on the same data.
#pragma once

#include <functional>
#include <unordered_map>
#include <vector>

#include "te/ir.h"

namespace te {

// One scalar or vector value. Integers and bools are held as int64, floats as double; a
// value with lanes > 1 holds one entry per lane.
struct Value {
  DataType dtype;
  std::vector<int64_t> i;  // integer / bool lanes
  std::vector<double> f;   // float lanes
  static Value from_int(DataType t, int64_t v);
  static Value from_float(DataType t, double v);
  int64_t as_int(int lane = 0) const;
  double as_float(int lane = 0) const;  // converts ints too
  bool as_bool(int lane = 0) const { return as_int(lane) != 0; }
};

// A flat buffer the interpreter reads and writes through Load/Store.
struct InterpBuffer {
  void* data = nullptr;
  DataType dtype;  // element type
  int64_t numel = 0;  // for bounds checks: an out-of-range access throws InternalError
};

class Interpreter {
 public:
  // Called for TensorRead nodes (te bodies). Unset: TensorRead throws InternalError.
  std::function<Value(const Tensor&, const std::vector<int64_t>&)> tensor_read;
  // Called for TensorStore nodes (pre-flattening statements).
  std::function<void(const Tensor&, const std::vector<int64_t>&, const Value&)> tensor_store;

  // Called before every element a Load reads (lane by lane), with the buffer's handle and the
  // element index; it may throw (the CUDA emulator checks bounds and races here).
  std::function<void(const VarNode* buffer, int64_t index)> on_load;

  void bind(const Var& v, Value value);
  void bind_buffer(const Var& handle, InterpBuffer buffer);
  void unbind(const Var& v) { vars_.erase(v.get()); }
  void unbind_buffer(const Var& handle) { buffers_.erase(handle.get()); }
  Value eval(const Expr& e);
  void run(const Stmt& s);  // Allocate'd buffers are created and freed by run()

 private:
  std::unordered_map<const VarNode*, Value> vars_;
  std::unordered_map<const VarNode*, InterpBuffer> buffers_;
  std::vector<std::vector<unsigned char>> owned_;  // storage of Allocate nodes

  friend class InterpreterImpl;
};

}  // namespace te
