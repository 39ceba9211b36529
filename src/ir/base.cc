// src/ir/base.cc — DataType names, the internal-error thrower and the enum names used by the
// printer and by error messages.
#include <cctype>

#include "te/ir.h"

namespace te {

std::string DataType::str() const {
  std::string s;
  switch (code) {
    case kInt: s = "int" + std::to_string(bits); break;
    case kUInt: s = "uint" + std::to_string(bits); break;
    case kFloat: s = "float" + std::to_string(bits); break;
    case kHandle: s = "handle"; break;
    case kBool: s = "bool"; break;
  }
  if (lanes > 1) s += "x" + std::to_string(lanes);
  return s;
}

DataType DataType::parse(const std::string& text) {
  // Optional vector suffix "x<lanes>" (e.g. float32x8); "handle"/"bool" have no bit count.
  std::string base = text;
  int lanes = 1;
  size_t x = text.rfind('x');
  if (x != std::string::npos && x + 1 < text.size() && x > 0 && std::isdigit((unsigned char)text[x - 1])) {
    std::string digits = text.substr(x + 1);
    bool all_digits = !digits.empty() && digits.size() <= 5;
    for (char c : digits) all_digits = all_digits && std::isdigit((unsigned char)c);
    if (!all_digits) fail("unknown dtype '", text, "': expected e.g. float32, int64, uint8, bool, float32x8");
    lanes = std::stoi(digits);
    base = text.substr(0, x);
  }
  if (lanes < 1 || lanes > 65535) fail("dtype '", text, "' has an invalid lane count");
  if (base == "bool") return DataType(kBool, 1, lanes);
  if (base == "handle") return DataType(kHandle, 64, lanes);
  auto with_bits = [&](const char* prefix, std::initializer_list<int> allowed) -> bool {
    size_t n = std::char_traits<char>::length(prefix);
    if (base.compare(0, n, prefix) != 0 || base.size() == n || base.size() > n + 2) return false;
    for (size_t k = n; k < base.size(); ++k)
      if (!std::isdigit((unsigned char)base[k])) return false;
    int bits = std::stoi(base.substr(n));
    for (int a : allowed)
      if (a == bits) return true;
    fail("dtype '", text, "': ", prefix, " must have one of the widths 8/16/32/64 (float: 16/32/64)");
  };
  if (with_bits("uint", {8, 16, 32, 64})) return DataType(kUInt, std::stoi(base.substr(4)), lanes);
  if (with_bits("int", {8, 16, 32, 64})) return DataType(kInt, std::stoi(base.substr(3)), lanes);
  if (with_bits("float", {16, 32, 64})) return DataType(kFloat, std::stoi(base.substr(5)), lanes);
  fail("unknown dtype '", text, "': expected e.g. float32, float16, float64, int8, int32, int64, uint8, bool");
}

namespace detail {
void throw_internal(const char* file, int line, const char* cond, const std::string& msg) {
  std::ostringstream os;
  os << "te internal error (a bug, please report) at " << file << ":" << line << ": check `" << cond
     << "` failed";
  if (!msg.empty()) os << ": " << msg;
  throw InternalError(os.str());
}
}  // namespace detail

const char* kind_name(ExprKind k) {
  switch (k) {
#define TE_X(name) \
  case ExprKind::name: return #name;
    TE_EXPR_NODES(TE_X)
#undef TE_X
  }
  return "?";
}

const char* kind_name(StmtKind k) {
  switch (k) {
#define TE_X(name) \
  case StmtKind::name: return #name;
    TE_STMT_NODES(TE_X)
#undef TE_X
  }
  return "?";
}

std::vector<std::pair<int, int>> reduce_lanes_order(int lanes, std::vector<int>* odd_lanes) {
  std::vector<std::pair<int, int>> steps;
  odd_lanes->clear();
  for (int n = lanes; n > 1;) {
    if (n % 2) odd_lanes->push_back(--n);
    steps.emplace_back(n, n / 2);
    n /= 2;
  }
  return steps;
}

const char* intrinsic_name(Intrinsic op) {
  switch (op) {
    case Intrinsic::kExp: return "exp";
    case Intrinsic::kLog: return "log";
    case Intrinsic::kSqrt: return "sqrt";
    case Intrinsic::kRsqrt: return "rsqrt";
    case Intrinsic::kTanh: return "tanh";
    case Intrinsic::kSigmoid: return "sigmoid";
    case Intrinsic::kErf: return "erf";
    case Intrinsic::kPow: return "pow";
    case Intrinsic::kAbs: return "abs";
    case Intrinsic::kFloor: return "floor";
    case Intrinsic::kCeil: return "ceil";
    case Intrinsic::kRound: return "round";
    case Intrinsic::kFma: return "fma";
    case Intrinsic::kIfThenElse: return "if_then_else";
    case Intrinsic::kLikely: return "likely";
    case Intrinsic::kReduceAdd: return "reduce_add";
    case Intrinsic::kReduceMin: return "reduce_min";
    case Intrinsic::kReduceMax: return "reduce_max";
    case Intrinsic::kPrefetch: return "prefetch";
    case Intrinsic::kWmmaFill: return "wmma_fill";
    case Intrinsic::kWmmaLoad: return "wmma_load";
    case Intrinsic::kWmmaMma: return "wmma_mma";
    case Intrinsic::kWmmaStore: return "wmma_store";
    case Intrinsic::kCpAsync: return "cp_async";
    case Intrinsic::kCpAsyncCommit: return "cp_async_commit";
    case Intrinsic::kCpAsyncWait: return "cp_async_wait";
  }
  return "?";
}

const char* for_kind_name(ForKind k) {
  switch (k) {
    case ForKind::kSerial: return "serial";
    case ForKind::kParallel: return "parallel";
    case ForKind::kVectorized: return "vectorized";
    case ForKind::kUnrolled: return "unrolled";
    case ForKind::kThreadBinding: return "thread_binding";
  }
  return "?";
}

}  // namespace te
