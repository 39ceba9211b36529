// Random tensor-expression programs for the differential fuzzer. Every stage reads earlier
// tensors only at in-bounds indices (by construction: floormod by the operand's extent, clamps,
// padding guards), so every program is legal and the reference interpreter defines its result.
// Each stage draws from its own RNG (program_seed, stage index): shrinking the stage count or
// the extent cap keeps the remaining stages' structure.
#include "fuzz_program.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <random>
#include <sstream>

namespace te::fuzz {
namespace {

using Rng = std::mt19937_64;

int64_t uniform(Rng& r, int64_t lo, int64_t hi) { return std::uniform_int_distribution<int64_t>(lo, hi)(r); }
bool chance(Rng& r, double p) { return std::uniform_real_distribution<double>(0, 1)(r) < p; }
template <typename T>
const T& pick(Rng& r, const std::vector<T>& v) { return v.at(size_t(uniform(r, 0, int64_t(v.size()) - 1))); }

// A tensor of the program with its symbolic and concrete shape.
struct Value {
  Tensor t;
  std::vector<Expr> shape;
  std::vector<int64_t> dims;  // concrete, for the call
};

class Generator {
 public:
  explicit Generator(const FuzzCase& c) : c_(c), dtype_(DataType::parse(c.dtype)) {}

  Program run() {
    Rng base(c_.program_seed * 0x9E3779B97F4A7C15ull + 1);
    const int rank = int(uniform(base, 1, 3));
    const std::vector<int64_t> sizes = {1, 2, 3, 4, 5, 7, 8, 11, 13, 16, 17, 24, 31, 37};
    std::vector<int64_t> dims;
    for (int d = 0; d < rank; ++d) dims.push_back(std::min<int64_t>(pick(base, sizes), c_.extent_cap));
    const int sym_dim = int(uniform(base, 0, rank - 1));
    std::vector<Expr> shape;
    for (int d = 0; d < rank; ++d) {
      if (c_.symbolic && d == sym_dim) {
        n_ = var("n");
        n_value_ = dims[size_t(d)];
        shape.push_back(n_);
      } else {
        shape.push_back(Expr(int32_t(dims[size_t(d)])));
      }
    }
    pool_.push_back(new_input(shape, dims));
    for (int i = 0; i < c_.num_stages; ++i) {
      Rng r(c_.program_seed * 0x9E3779B97F4A7C15ull + 1000003ull * uint64_t(i + 1));
      pool_.push_back(stage(r, i));
    }
    Program p;
    for (const Value& v : inputs_) {
      p.inputs.push_back(v.t);
      p.input_shapes.push_back(v.dims);
    }
    p.outputs.push_back(pool_.back().t);
    // Sometimes an intermediate stage is an output too (a multi-output kernel; it cannot be
    // inlined then). Not on CUDA: one kernel binds all outputs, which rarely share a grid.
    Rng out_rng(c_.program_seed + 77);
    if (c_.num_stages >= 3 && c_.target != "cuda" && chance(out_rng, 0.2)) {
      // pool_ is the first input followed by the stages.
      const Value& extra = pool_.at(size_t(uniform(out_rng, 1, int64_t(pool_.size()) - 2)));
      if (extra.t.op().as<ComputeOpNode>()) p.outputs.insert(p.outputs.begin(), extra.t);
    }
    p.text = text_.str();
    if (dtype_ == DataType::float32()) p.rtol = 1e-3, p.atol = 1e-4;
    else if (dtype_ == DataType::float64()) p.rtol = 1e-9, p.atol = 1e-10;
    return p;
  }

 private:
  Value new_input(const std::vector<Expr>& shape, const std::vector<int64_t>& dims) {
    std::string name = "in" + std::to_string(inputs_.size());
    Value v{placeholder(shape, dtype_, name), shape, dims};
    inputs_.push_back(v);
    text_ << name << " = placeholder(" << shape_str(shape) << ", " << dtype_.str() << ")\n";
    return v;
  }

  static std::string shape_str(const std::vector<Expr>& shape) {
    std::string s = "(";
    for (size_t i = 0; i < shape.size(); ++i) s += (i ? ", " : "") + to_string(shape[i]);
    return s + (shape.size() == 1 ? ",)" : ")");
  }

  Expr cst(double v) const { return constant(v, dtype_); }
  bool is_float() const { return dtype_.is_float(); }

  // Elementwise unary math that stays finite on any input.
  Expr unary(Rng& r, Expr x) {
    if (is_float()) {
      switch (uniform(r, 0, 9)) {
        case 0: return exp(min(x, cst(3)));
        case 1: return log(abs(x) + cst(1));
        case 2: return sqrt(abs(x));
        case 3: return tanh(x);
        case 4: return sigmoid(x);
        case 5: return x * x - cst(0.5);
        case 6: return select(x > cst(0), x, x * cst(0.25));
        case 7: return erf(x) + cst(0.5);
        case 8: return fma(x, cst(1.5), cst(-0.25));
        default: return max(x, cst(-0.3));
      }
    }
    switch (uniform(r, 0, 7)) {
      case 0: return x * cst(3) + cst(1);
      case 1: return abs(x);
      case 2: return max(x, cst(-2));
      case 3: return floordiv(x, cst(double(uniform(r, 2, 5))));
      case 4: return floormod(x, cst(double(uniform(r, 2, 7))));
      case 5: return select(x > cst(0), x, cst(0) - x);
      case 6: return truncdiv(x, cst(3)) + truncmod(x, cst(4));
      default: return x - cst(5);
    }
  }

  Expr binary(Rng& r, Expr a, Expr b) {
    if (is_float()) {
      switch (uniform(r, 0, 5)) {
        case 0: return a + b;
        case 1: return a - b;
        case 2: return a * b;
        case 3: return a / (abs(b) + cst(1));
        case 4: return max(a, b);
        default: return select(a < b, a, b * cst(2));
      }
    }
    switch (uniform(r, 0, 6)) {
      case 0: return a + b;
      case 1: return a - b;
      case 2: return a * b;
      case 3: return min(a, b);
      case 4: return floordiv(a, abs(b) + cst(1));
      case 5: return floormod(a, abs(b) + cst(1));
      default: return if_then_else(a > b, a - b, b);
    }
  }

  // An index into a dimension of extent e (symbolic or constant) computed from the output
  // index i, always in [0, e).
  Expr index(Rng& r, const Var& i, const Expr& e) {
    switch (uniform(r, 0, 5)) {
      case 0: return e - 1 - i;                                               // reversed
      case 1: return floormod(i * int32_t(uniform(r, 2, 5)) + int32_t(uniform(r, 0, 6)), e);  // strided, wrapped
      case 2: return floordiv(i, 2);                                          // repeated
      case 3: return min(i + int32_t(uniform(r, 1, 3)), e - 1);               // shifted, clamped
      default: return Expr(i);
    }
  }

  Value pick_value(Rng& r) { return pool_.at(size_t(uniform(r, int64_t(pool_.size()) > 3 ? int64_t(pool_.size()) - 3 : 0, int64_t(pool_.size()) - 1))); }
  // Prefer the most recent tensor, so that programs are chains with side inputs (DAGs).
  Value recent(Rng& r) { return chance(r, 0.7) ? pool_.back() : pick_value(r); }

  std::vector<Expr> all_indices(const std::vector<Var>& i) { return std::vector<Expr>(i.begin(), i.end()); }

  Value finish(const std::string& what, Tensor t, std::vector<Expr> shape, std::vector<int64_t> dims) {
    const auto* op = t.op().as<ComputeOpNode>();
    text_ << t.name() << shape_str(shape) << " = " << what << ": " << to_string(op->body.at(0)) << "\n";
    return Value{t, std::move(shape), std::move(dims)};
  }

  Value stage(Rng& r, int idx) {
    const std::string name = "T" + std::to_string(idx);
    Value a = recent(r);
    const size_t rank = a.shape.size();
    int64_t kind = uniform(r, 0, 9);
    if (kind == 0 || kind == 1) {  // elementwise unary
      Tensor t = compute(a.shape, [&](const std::vector<Var>& i) { return unary(r, a.t(all_indices(i))); }, name);
      return finish("unary", t, a.shape, a.dims);
    }
    if (kind == 2 || kind == 3) {  // binary, the second operand broadcast (a new input with 1s)
      Value b;
      std::vector<Value> same;
      for (const Value& v : pool_)
        if (v.dims == a.dims && !v.t.same_as(a.t) && v.shape.size() == rank) same.push_back(v);
      if (!same.empty() && chance(r, 0.5)) {
        b = pick(r, same);
      } else {
        std::vector<Expr> bs = a.shape;
        std::vector<int64_t> bd = a.dims;
        for (size_t d = 0; d < rank; ++d)
          if (chance(r, 0.4)) bs[d] = Expr(1), bd[d] = 1;
        b = new_input(bs, bd);
      }
      Tensor t = compute(a.shape, [&](const std::vector<Var>& i) {
        std::vector<Expr> bi;
        for (size_t d = 0; d < rank; ++d) bi.push_back(b.dims[d] == 1 && a.dims[d] != 1 ? Expr(0) : Expr(i[d]));
        if (b.dims == a.dims) bi = all_indices(i);
        return binary(r, a.t(all_indices(i)), b.t(bi));
      }, name);
      return finish("binary", t, a.shape, a.dims);
    }
    if (kind == 4) {  // index arithmetic: reversed / strided / repeated / clamped reads
      Tensor t = compute(a.shape, [&](const std::vector<Var>& i) {
        std::vector<Expr> idx;
        for (size_t d = 0; d < rank; ++d) idx.push_back(index(r, i[d], a.shape[d]));
        return a.t(idx) + cst(1);
      }, name);
      return finish("index", t, a.shape, a.dims);
    }
    if (kind == 5 && rank >= 2 && chance(r, 0.5)) {  // flatten two dims: floordiv/floormod reconstruct them
      const size_t d = size_t(uniform(r, 0, int64_t(rank) - 2));
      std::vector<Expr> shape = a.shape;
      std::vector<int64_t> dims = a.dims;
      shape[d] = a.shape[d] * a.shape[d + 1];
      dims[d] = a.dims[d] * a.dims[d + 1];
      shape.erase(shape.begin() + long(d) + 1);
      dims.erase(dims.begin() + long(d) + 1);
      Tensor t = compute(shape, [&](const std::vector<Var>& i) {
        std::vector<Expr> idx;
        for (size_t k = 0; k < i.size(); ++k) {
          if (k == d) {
            idx.push_back(floordiv(i[k], a.shape[d + 1]));
            idx.push_back(floormod(i[k], a.shape[d + 1]));
          } else {
            idx.push_back(i[k]);
          }
        }
        return a.t(idx);
      }, name);
      return finish("flatten", t, shape, dims);
    }
    if (kind == 5) {  // strided read of one dimension: out[i] = a[i*step + start]
      const size_t d = size_t(uniform(r, 0, int64_t(rank) - 1));
      const int32_t step = int32_t(uniform(r, 2, 3)), start = int32_t(uniform(r, 0, 1));
      std::vector<Expr> shape = a.shape;
      std::vector<int64_t> dims = a.dims;
      // ceil((D - start) / step) elements, at least 1 (then the read is clamped).
      shape[d] = max(floordiv(a.shape[d] - start + (step - 1), step), Expr(1));
      dims[d] = std::max<int64_t>((a.dims[d] - start + step - 1) / step, 1);
      Tensor t = compute(shape, [&](const std::vector<Var>& i) {
        std::vector<Expr> idx = all_indices(i);
        idx[d] = min(i[d] * step + start, a.shape[d] - 1);
        return a.t(idx);
      }, name);
      return finish("strided", t, shape, dims);
    }
    if (kind == 6) {  // padding via if_then_else on one dimension
      const size_t d = size_t(uniform(r, 0, int64_t(rank) - 1));
      const int32_t lo = int32_t(uniform(r, 0, 2)), hi = int32_t(uniform(r, 0, 3));
      std::vector<Expr> shape = a.shape;
      std::vector<int64_t> dims = a.dims;
      shape[d] = a.shape[d] + (lo + hi);
      dims[d] += lo + hi;
      const double pad_value = is_float() ? 0.5 : 3;
      Tensor t = compute(shape, [&](const std::vector<Var>& i) {
        std::vector<Expr> idx = all_indices(i);
        idx[d] = i[d] - lo;
        Expr inside = i[d] >= lo && i[d] < a.shape[d] + lo;
        return if_then_else(inside, a.t(idx), cst(pad_value));
      }, name);
      return finish("pad", t, shape, dims);
    }
    if (kind == 7) {  // contraction with a new weight input: out[..., j] = sum_k a[..., k] * w[k, j]
      const int64_t J = std::min<int64_t>(pick(r, std::vector<int64_t>{1, 3, 4, 7, 8, 16}), c_.extent_cap);
      Value w = new_input({a.shape.back(), Expr(int32_t(J))}, {a.dims.back(), J});
      IterVar k = reduce_axis(Range(0, a.shape.back()), name + "_k");
      std::vector<Expr> shape = a.shape;
      std::vector<int64_t> dims = a.dims;
      shape.back() = Expr(int32_t(J));
      dims.back() = J;
      Tensor t = compute(shape, [&](const std::vector<Var>& i) {
        std::vector<Expr> ai = all_indices(i);
        ai.back() = k->var;
        return sum(a.t(ai) * w.t({Expr(k->var), Expr(i.back())}), {k});
      }, name);
      return finish("contract", t, shape, dims);
    }
    // kind 8, 9 (and 5 on rank 1): reduction over one dimension, kept as extent 1 or dropped.
    const size_t d = size_t(uniform(r, 0, int64_t(rank) - 1));
    const bool keep = rank == 1 || chance(r, 0.4);
    IterVar k = reduce_axis(Range(0, a.shape[d]), name + "_k");
    std::vector<Expr> shape;
    std::vector<int64_t> dims;
    for (size_t q = 0; q < rank; ++q) {
      if (q == d && !keep) continue;
      shape.push_back(q == d ? Expr(1) : a.shape[q]);
      dims.push_back(q == d ? 1 : a.dims[q]);
    }
    const int64_t which = uniform(r, 0, 7);
    if (which == 7) {  // a two-value user reducer: (max value, first index reaching it)
      Reducer argmax(
          [](const std::vector<Expr>& l, const std::vector<Expr>& rr) {
            Expr take = rr[0] > l[0] || (rr[0] == l[0] && rr[1] < l[1]);
            return std::vector<Expr>{select(take, rr[0], l[0]), select(take, rr[1], l[1])};
          },
          [](const std::vector<DataType>& ts) { return std::vector<Expr>{min_value(ts[0]), max_value(ts[1])}; }, "argmax");
      std::vector<Tensor> outs = compute_multi(shape, [&](const std::vector<Var>& i) {
        std::vector<Expr> idx;
        size_t o = 0;
        for (size_t q = 0; q < rank; ++q) {
          if (q == d) {
            idx.push_back(k->var);
            if (keep) ++o;
          } else {
            idx.push_back(i[o++]);
          }
        }
        return argmax({a.t(idx), Expr(k->var)}, {k});
      }, name);
      // The next stages read the index (as the program's dtype) or the value. Not the index of
      // a float argmax: rounding differences of a reassociated producer may move it.
      Tensor pickv = outs.at(is_float() ? 0 : size_t(uniform(r, 0, 1)));
      Tensor t = compute(shape, [&](const std::vector<Var>& i) { return cast(dtype_, pickv(all_indices(i))); }, name + "_pick");
      text_ << name << " = argmax over " << to_string(k->var) << " of " << a.t.name() << "; " << t.name() << " = "
            << to_string(t.op().as<ComputeOpNode>()->body.at(0)) << "\n";
      return Value{t, shape, dims};
    }
    const bool with_where = chance(r, 0.25);
    const int32_t where_mod = int32_t(uniform(r, 2, 3));
    Tensor t = compute(shape, [&](const std::vector<Var>& i) {
      std::vector<Expr> idx;
      size_t o = 0;
      for (size_t q = 0; q < rank; ++q) {
        if (q == d) {
          idx.push_back(k->var);
          if (keep) ++o;
        } else {
          idx.push_back(i[o++]);
        }
      }
      Expr src = a.t(idx);
      // For max/min-like reducers never an empty domain (k = 0 always counts): an empty one
      // gives the identity (+-FLT_MAX), later sums overflow to inf, and FP contraction (fma, on
      // by design) then legitimately differs from the reference on inf - inf (long run, seed
      // 203317). Sums and products may reduce over nothing (k = 0 skipped, extent 1).
      const bool extreme_identity = which == 1 || which == 2 || which == 5;
      Expr where = with_where ? Expr(floormod(k->var, where_mod) != (extreme_identity ? where_mod - 1 : 0)) : Expr();
      switch (which) {
        case 0: return sum(src, {k}, where);
        case 1: return max(src, {k}, where);
        case 2: return min(src, {k}, where);
        case 3: return prod(is_float() ? min(max(src, cst(-1.5)), cst(1.5)) : src, {k}, where);
        case 4: {  // a user reducer: sum of squares (commutative and associative)
          Reducer sumsq([](const std::vector<Expr>& l, const std::vector<Expr>& rr) { return std::vector<Expr>{l[0] + rr[0]}; },
                        [](const std::vector<DataType>& ts) { return std::vector<Expr>{constant(0, ts[0])}; }, "sumsq");
          return sumsq(src * src, {k}, where);
        }
        case 5: {  // a user reducer: maximum of absolute values, spelled with select
          Reducer maxabs([](const std::vector<Expr>& l, const std::vector<Expr>& rr) { return std::vector<Expr>{select(l[0] > rr[0], l[0], rr[0])}; },
                         [](const std::vector<DataType>& ts) { return std::vector<Expr>{min_value(ts[0])}; }, "maxabs");
          return maxabs(abs(src), {k}, where);
        }
        default: return sum(src * cst(2), {k}, where);
      }
    }, name);
    return finish("reduce", t, shape, dims);
  }

  const FuzzCase& c_;
  DataType dtype_;
  Var n_;
  int64_t n_value_ = 0;
  std::vector<Value> inputs_, pool_;
  std::ostringstream text_;
};

}  // namespace

std::string FuzzCase::to_json() const {
  nlohmann::json j = {{"program_seed", program_seed}, {"schedule_seed", schedule_seed}, {"dtype", dtype},
                      {"num_stages", num_stages}, {"extent_cap", extent_cap}, {"symbolic", symbolic},
                      {"target", target}};
  if (!steps_json.empty()) j["steps"] = nlohmann::json::parse(steps_json);
  return j.dump(2);
}

FuzzCase FuzzCase::from_json(const std::string& text) {
  try {
    nlohmann::json j = nlohmann::json::parse(text);
    FuzzCase c;
    c.program_seed = j.at("program_seed").get<uint64_t>();
    c.schedule_seed = j.at("schedule_seed").get<uint64_t>();
    c.dtype = j.at("dtype").get<std::string>();
    c.num_stages = j.at("num_stages").get<int>();
    c.extent_cap = j.at("extent_cap").get<int>();
    c.symbolic = j.at("symbolic").get<bool>();
    c.target = j.at("target").get<std::string>();
    if (j.contains("steps")) c.steps_json = j.at("steps").dump();
    if (c.num_stages < 1 || c.num_stages > 6 || c.extent_cap < 1)
      throw Error("fuzz case: num_stages must be 1..6 and extent_cap >= 1");
    return c;
  } catch (const nlohmann::json::exception& e) {
    throw Error(std::string("fuzz case: malformed JSON: ") + e.what());
  }
}

FuzzCase random_case(uint64_t seed, bool with_cuda) {
  Rng r(seed * 0xD1B54A32D192ED03ull + 7);
  FuzzCase c;
  c.program_seed = seed;
  c.schedule_seed = seed ^ 0x5bd1e995u;
  c.dtype = pick(r, std::vector<std::string>{"float32", "float32", "float64", "int32", "int8"});
  c.num_stages = int(uniform(r, 1, 6));
  c.extent_cap = 64;
  c.symbolic = chance(r, 0.3);
  c.target = with_cuda && chance(r, 0.25) ? "cuda" : "llvm";
  return c;
}

Program generate_program(const FuzzCase& c) { return Generator(c).run(); }

}  // namespace te::fuzz
