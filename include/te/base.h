// te/base.h — errors, data types and the intrusive reference-counted handle used by every
// IR node. Included by every other public header; includes nothing from LLVM or CUDA.
#pragma once

#include <atomic>
#include <cstdint>
#include <sstream>
#include <stdexcept>
#include <string>

namespace te {

// A user's mistake: an illegal schedule, a bad argument, a wrong call. Python sees it as
// te.TEError (a ValueError). The message names the stage/axis/argument and what was expected.
class Error : public std::runtime_error {
 public:
  explicit Error(const std::string& message) : std::runtime_error(message) {}
};

// A broken internal invariant: a bug in te, never the user's fault. Kept apart from Error so
// that tests can tell "te rejected bad input" from "te is wrong".
class InternalError : public std::logic_error {
 public:
  explicit InternalError(const std::string& message) : std::logic_error(message) {}
};

namespace detail {
[[noreturn]] void throw_internal(const char* file, int line, const char* cond, const std::string& msg);
// Builds a message from stream-able pieces: te::detail::cat("stage ", name, " has ", n).
template <typename... Args>
std::string cat(const Args&... args) {
  std::ostringstream os;
  (os << ... << args);
  return os.str();
}
}  // namespace detail

// Internal invariant check: failing means a te bug. Use throw te::Error for user mistakes.
#define TE_ICHECK(cond, ...)                                                             \
  do {                                                                                   \
    if (!(cond)) ::te::detail::throw_internal(__FILE__, __LINE__, #cond,                 \
                                              ::te::detail::cat("" __VA_OPT__(, ) __VA_ARGS__)); \
  } while (0)

// User-error helper: throws te::Error with the concatenated message.
template <typename... Args>
[[noreturn]] void fail(const Args&... args) {
  throw Error(detail::cat(args...));
}

// Element type of a scalar or vector value. lanes > 1 only appears after vectorization.
struct DataType {
  enum Code : uint8_t { kInt = 0, kUInt = 1, kFloat = 2, kHandle = 3, kBool = 4 };
  Code code = kInt;
  uint8_t bits = 32;
  uint16_t lanes = 1;

  constexpr DataType() = default;
  constexpr DataType(Code c, int b, int l = 1) : code(c), bits(uint8_t(b)), lanes(uint16_t(l)) {}

  static constexpr DataType int8() { return {kInt, 8}; }
  static constexpr DataType int16() { return {kInt, 16}; }
  static constexpr DataType int32() { return {kInt, 32}; }
  static constexpr DataType int64() { return {kInt, 64}; }
  static constexpr DataType uint8() { return {kUInt, 8}; }
  static constexpr DataType float16() { return {kFloat, 16}; }
  static constexpr DataType float32() { return {kFloat, 32}; }
  static constexpr DataType float64() { return {kFloat, 64}; }
  static constexpr DataType boolean() { return {kBool, 1}; }
  static constexpr DataType handle() { return {kHandle, 64}; }

  bool is_int() const { return code == kInt; }
  bool is_uint() const { return code == kUInt; }
  bool is_integer() const { return code == kInt || code == kUInt; }  // not bool
  bool is_float() const { return code == kFloat; }
  bool is_bool() const { return code == kBool; }
  bool is_handle() const { return code == kHandle; }
  bool is_scalar() const { return lanes == 1; }
  bool is_vector() const { return lanes > 1; }
  DataType element_of() const { return DataType(code, bits, 1); }
  DataType with_lanes(int l) const { return DataType(code, bits, l); }
  // Storage size of one element in bytes (bool is stored as one byte).
  int bytes() const { return code == kBool ? 1 : (bits + 7) / 8; }
  bool operator==(const DataType& o) const {
    return code == o.code && bits == o.bits && lanes == o.lanes;
  }
  bool operator!=(const DataType& o) const { return !(*this == o); }
  // "float32", "int8", "bool", "float32x8".
  std::string str() const;
  // Parses "float32", "int64", "uint8", "bool", "float16"...; throws te::Error otherwise.
  static DataType parse(const std::string& s);
};

// Base of every reference-counted object (IR nodes, operations, schedules).
class Node {
 public:
  Node() = default;
  Node(const Node&) = delete;
  Node& operator=(const Node&) = delete;
  virtual ~Node() = default;
  mutable std::atomic<int32_t> ref_count_{0};
};

// Intrusive shared pointer. Copying bumps the count; the last handle deletes the node.
template <typename T>
class Ref {
 public:
  Ref() = default;
  Ref(T* p) : ptr_(p) { incref(); }  // NOLINT: implicit on purpose, as in Halide's IntrusivePtr
  Ref(const Ref& o) : ptr_(o.ptr_) { incref(); }
  Ref(Ref&& o) noexcept : ptr_(o.ptr_) { o.ptr_ = nullptr; }
  template <typename U>
  Ref(const Ref<U>& o) : ptr_(o.get()) { incref(); }  // NOLINT: derived-to-base
  ~Ref() { decref(); }
  Ref& operator=(const Ref& o) {
    Ref(o).swap(*this);
    return *this;
  }
  Ref& operator=(Ref&& o) noexcept {
    Ref(std::move(o)).swap(*this);
    return *this;
  }
  void swap(Ref& o) noexcept { std::swap(ptr_, o.ptr_); }

  T* get() const { return ptr_; }
  T* operator->() const { return ptr_; }
  T& operator*() const { return *ptr_; }
  bool defined() const { return ptr_ != nullptr; }
  explicit operator bool() const { return ptr_ != nullptr; }
  bool same_as(const Ref& o) const { return ptr_ == o.ptr_; }

 private:
  void incref() {
    if (ptr_) ptr_->ref_count_.fetch_add(1, std::memory_order_relaxed);
  }
  void decref() {
    if (ptr_ && ptr_->ref_count_.fetch_sub(1, std::memory_order_acq_rel) == 1) delete ptr_;
    ptr_ = nullptr;
  }
  T* ptr_ = nullptr;
};

// Hash/equality by identity, for unordered_map<Handle, ...>.
struct RefHash {
  template <typename T>
  size_t operator()(const Ref<T>& r) const {
    return std::hash<const void*>()(r.get());
  }
};
struct RefEq {
  template <typename T>
  bool operator()(const Ref<T>& a, const Ref<T>& b) const {
    return a.get() == b.get();
  }
};

}  // namespace te
