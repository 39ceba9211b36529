// src/ir/interpreter.h — executes IR directly, without a compiler. Used by the reference
// evaluator (te compute bodies: TensorRead and Reduce) and by per-pass tests (flat IR:
// Load/Store/Allocate, vector lanes included), so a pass can be checked by running its input
// and output on the same data.
#pragma once

#include <algorithm>
#include <functional>
#include <stdexcept>
#include <unordered_map>
#include <vector>

#include "te/ir.h"

namespace te {

// The lanes of a Value: up to four inline (no heap allocation for scalars and short vectors:
// the interpreter creates a Value per node it evaluates, which made malloc its hot spot).
template <typename T>
class ValueLanes {
 public:
  size_t size() const { return n_; }
  T* begin() { return n_ <= kInline ? small_ : big_.data(); }
  T* end() { return begin() + n_; }
  const T* begin() const { return n_ <= kInline ? small_ : big_.data(); }
  const T* end() const { return begin() + n_; }
  T& operator[](size_t k) { return begin()[k]; }
  const T& operator[](size_t k) const { return begin()[k]; }
  const T& at(size_t k) const {
    if (k >= n_) throw std::out_of_range("Value lane out of range");
    return begin()[k];
  }
  void push_back(T v) {
    if (n_ < kInline) {
      small_[n_++] = v;
      return;
    }
    if (n_ == kInline) big_.assign(small_, small_ + kInline);
    big_.push_back(v);
    ++n_;
  }
  void assign(size_t n, T v) {
    n_ = n;
    if (n <= kInline) std::fill(small_, small_ + n, v);
    else big_.assign(n, v);
  }

 private:
  static constexpr size_t kInline = 4;
  T small_[kInline] = {};
  size_t n_ = 0;
  std::vector<T> big_;
};

// One scalar or vector value. Integers and bools are held as int64, floats as double; a
// value with lanes > 1 holds one entry per lane.
struct Value {
  DataType dtype;
  ValueLanes<int64_t> i;  // integer / bool lanes
  ValueLanes<double> f;   // float lanes
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
// Element i of b as a Value of b's element type (InternalError out of range): what a Load reads.
Value read_buffer_element(const InterpBuffer& b, int64_t i);

class Interpreter {
 public:
  // Called for TensorRead nodes (te bodies). Unset: TensorRead throws InternalError.
  std::function<Value(const Tensor&, const std::vector<int64_t>&)> tensor_read;
  // Called for TensorStore nodes (pre-flattening statements).
  std::function<void(const Tensor&, const std::vector<int64_t>&, const Value&)> tensor_store;

  // Called before every element a Load reads (lane by lane), with the buffer's handle and the
  // element index; it may throw (the CUDA emulator checks bounds and races here).
  std::function<void(const VarNode* buffer, int64_t index)> on_load;
  // Called for each prefetch hint (which has no other effect) with the buffer and the element
  // index it names (tests check which lines a prefetch covers).
  std::function<void(const VarNode* buffer, int64_t index)> on_prefetch;

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
