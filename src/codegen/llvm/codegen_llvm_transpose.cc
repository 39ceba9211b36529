// src/codegen/llvm/codegen_llvm_transpose.cc — loops that transpose, emitted as in-register
// block transposes instead of one gather (or scatter) per vector.
//
// The form recognised (after vectorization, one store per iteration of a serial loop k):
//     for (k, min, E) { S[ramp(X + c*k, 1, L)] = T[ramp(Y + k, stride, L)] }
// lane l of iteration k reads T[Y + k + l*stride] and writes S[X + c*k + l]. Per block of B
// iterations (k0 .. k0+B-1) and B lanes (g*B .. g*B+B-1) that is a B x B tile: row l of it is B
// contiguous elements of T (T[Y(k0) + l*stride + 0..B-1]), column j of it the B lanes stored at
// k0 + j. So: B contiguous row loads, a transpose in registers (log2 B rounds of B two-input
// shuffles), B contiguous stores — instead of L/B gathers of B elements each, which cost about a
// cycle per element on Intel cores. L must be a multiple of B and E at least B; the last E mod B
// iterations (a row of 56 pixels: 3 tiles and 8 iterations) run as written, after the tiles.
// The same elements are read and written as by the loop; only the order of the loads and
// stores changes, so S and T must be different buffers.
#include <llvm/IR/Constants.h>

#include "codegen/llvm/codegen_llvm_impl.h"
#include "codegen/llvm/target_machine.h"
#include "ir/simplify.h"
#include "te/ir_functor.h"

namespace te::llvm_backend {
namespace {

Expr int_const(DataType t, int64_t value) { return IntImmNode::make(t, value); }

// c when e(v + 1) - e(v) simplifies to the constant c and e - c*v no longer uses v. Flattened
// indices are int64 sums of int32 per-dimension parts under casts (`int64(l) + int64(k*56)`); the
// simplifier distributes the casts where the loop ranges show no int32 part can wrap, so the
// steps come out as constants — and stay unknown (no transpose) where a part could wrap.
std::optional<int64_t> linear_coefficient(const Expr& index, const Var& v, const VarRangeMap& ranges) {
  const Expr next = substitute(index, {{v.get(), v + int_const(v.dtype(), 1)}});
  const std::optional<int64_t> c = simplify_to_const(next - index, ranges);
  if (!c) return std::nullopt;
  const Expr rest = simplify(index - CastNode::make(index.dtype(), v) * int_const(index.dtype(), *c), ranges);
  if (uses_var(rest, [&](const VarNode* u) { return u == v.get(); })) return std::nullopt;
  return *c;
}

// Rows of a B x B tile (B a power of two) in B vectors of B lanes, transposed: round h swaps
// the off-diagonal h x h blocks of every 2h x 2h block (h = B/2, ..., 1).
std::vector<llvm::Value*> transpose_rows(llvm::IRBuilder<>& builder, std::vector<llvm::Value*> rows) {
  const int b = int(rows.size());
  for (int h = b / 2; h >= 1; h /= 2) {
    std::vector<int> low, high;  // lanes of (rows[i], rows[i + h]) concatenated: 0..b-1, b..2b-1
    for (int x = 0; x < b; ++x) {
      low.push_back((x & h) == 0 ? x : b + x - h);
      high.push_back((x & h) == 0 ? x + h : b + x);
    }
    for (int i = 0; i < b; ++i) {
      if (i & h) continue;
      llvm::Value* a = rows[size_t(i)];
      llvm::Value* c = rows[size_t(i + h)];
      rows[size_t(i)] = builder.CreateShuffleVector(a, c, low);
      rows[size_t(i + h)] = builder.CreateShuffleVector(a, c, high);
    }
  }
  return rows;
}

}  // namespace

int CodeGenLLVM::transpose_block(int bits) {
  detect_avx512();
  if (bits != 32 && bits != 64) return 0;
  // One tile row per vector register: 16 floats on AVX-512, 8 on AVX2 (16 rows of AVX2 would
  // need 32 registers).
  const int register_bits = avx512f_ ? 512 : 256;
  return register_bits / bits;
}

bool CodeGenLLVM::try_emit_transpose_loop(const ForNode* op) {
  const auto* store = op->body.as<StoreNode>();
  const int64_t* extent = as_const_int(op->extent);
  if (store == nullptr || extent == nullptr || load_mask_ != nullptr) return false;
  const auto* load = store->value.as<LoadNode>();
  const auto* store_ramp = store->index.as<RampNode>();
  if (load == nullptr || store_ramp == nullptr || load->buffer.same_as(store->buffer)) return false;
  const auto* load_ramp = load->index.as<RampNode>();
  const DataType t = load->dtype;
  if (load_ramp == nullptr || t.code == DataType::kBool || !is_one(store_ramp->stride)) return false;
  const int64_t* stride = as_const_int(load_ramp->stride);
  int b = transpose_block(t.bits);
  // A row of 56 pixels is not whole 16-lane tiles but is whole 8-lane ones: narrower tiles
  // (half registers) still beat a gather per vector.
  while (b > 4 && t.lanes % b != 0) b /= 2;
  if (stride == nullptr || b == 0 || *stride < b || t.lanes % b != 0 || *extent < b) return false;
  const Var& k = op->loop_var;
  std::optional<int64_t> load_step = linear_coefficient(load_ramp->base, k, loop_ranges_);
  std::optional<int64_t> store_step = linear_coefficient(store_ramp->base, k, loop_ranges_);
  if (load_step != std::optional<int64_t>(1) || !store_step) return false;

  // for (kb, 0, E / B): the tiles of iterations k0 = min + kb*B .. k0 + B - 1.
  Var block(k.name() + ".block", k.dtype());
  const Expr k0 = op->min + block * int_const(k.dtype(), b);
  const Expr load_base = substitute(load_ramp->base, {{k.get(), k0}});
  const Expr store_base = substitute(store_ramp->base, {{k.get(), k0}});
  const DataType row_type = t.with_lanes(b);
  llvm::Type* row_llvm = llvm_type(row_type);
  const llvm::Align align(uint64_t(t.bytes()));
  llvm::Value* begin = llvm::ConstantInt::get(llvm_type(k.dtype()), 0);
  const int64_t blocks = *extent / b, tail = *extent % b;
  llvm::Value* end = llvm::ConstantInt::get(llvm_type(k.dtype()), uint64_t(blocks));
  emit_serial_loop(block, begin, end, ForKind::kSerial, blocks, [&] {
    for (int g = 0; g < t.lanes / b; ++g) {
      std::vector<llvm::Value*> rows;
      for (int r = 0; r < b; ++r) {
        Expr row_start = load_base + int_const(load_base.dtype(), (int64_t(g) * b + r) * *stride);
        bool contiguous = false;
        llvm::Value* addr = emit_address(load->buffer, t.element_of(), RampNode::make(row_start, int_const(row_start.dtype(), 1), b), &contiguous);
        rows.push_back(builder_.CreateAlignedLoad(row_llvm, addr, align));
      }
      std::vector<llvm::Value*> columns = transpose_rows(builder_, rows);
      for (int j = 0; j < b; ++j) {
        Expr column_start = store_base + int_const(store_base.dtype(), int64_t(j) * *store_step + int64_t(g) * b);
        bool contiguous = false;
        llvm::Value* addr = emit_address(store->buffer, t.element_of(), RampNode::make(column_start, int_const(column_start.dtype(), 1), b), &contiguous);
        builder_.CreateAlignedStore(columns[size_t(j)], addr, align);
      }
    }
  });
  if (tail > 0) {  // the last E mod B iterations as written (a 56-wide row: 3 tiles + 8)
    llvm::Value* tail_begin = emit(simplify(op->min + int_const(k.dtype(), blocks * b)));
    llvm::Value* tail_end = emit(simplify(op->min + op->extent));
    emit_serial_loop(k, tail_begin, tail_end, ForKind::kSerial, tail, op->body);
  }
  return true;
}

}  // namespace te::llvm_backend
