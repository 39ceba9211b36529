// src/codegen/llvm/codegen_llvm_impl.h — the CodeGenLLVM class shared by
// codegen_llvm_expr.cc (expressions) and codegen_llvm_stmt.cc (statements, functions,
// parallel outlining). Private to src/codegen/llvm.
#pragma once

#include <llvm/IR/IRBuilder.h>
#include <llvm/IR/Intrinsics.h>

#include <functional>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "codegen/llvm/codegen_llvm.h"
#include "ir/simplify.h"
#include "te/ir_functor.h"

namespace te::llvm_backend {

class CodeGenLLVM {
 public:
  CodeGenLLVM(const LoweredFunc& func, const Target& target, const CpuSpec& cpu, llvm::LLVMContext& ctx);
  CodegenResult run();

 private:
  // ---- types
  llvm::Type* llvm_type(DataType t) const;          // registers: bool is i1
  llvm::Type* llvm_memory_type(DataType t) const;   // memory: bool is i8

  // ---- expressions (codegen_llvm_expr.cc)
  llvm::Value* emit(const Expr& e);
  llvm::Value* emit_binary(ExprKind kind, DataType t, llvm::Value* a, llvm::Value* b);
  llvm::Value* emit_compare(ExprKind kind, DataType operand_type, llvm::Value* a, llvm::Value* b);
  static bool is_int_division(ExprKind kind, DataType t);
  llvm::Value* emit_int_division(ExprKind kind, DataType t, const Expr& b_expr, llvm::Value* a, llvm::Value* b);
  llvm::Value* emit_floor_div_mod(bool want_mod, DataType t, const Expr& b_expr, llvm::Value* a, llvm::Value* b);
  llvm::Value* emit_cast(DataType from, DataType to, llvm::Value* v);
  llvm::Value* emit_call(const CallNode* op);
  llvm::Value* emit_reduce_lanes(Intrinsic op, DataType vector_type, llvm::Value* v);
  llvm::Value* emit_math(Intrinsic op, DataType t, const std::vector<llvm::Value*>& args);
  llvm::Value* emit_exp(DataType t, llvm::Value* x);  // inline polynomial, vectorizes
  llvm::Value* emit_tanh_f32(DataType t, llvm::Value* x);  // inline, on emit_exp
  // y * 2^n (n integral) in one AVX-512 vscalef per register, or null where the target has no
  // vscalef for this type (no AVX-512F, or a width AVX-512VL does not cover).
  llvm::Value* emit_scalef(DataType t, llvm::Value* y, llvm::Value* n);
  llvm::Value* emit_libm(const char* f32_name, const char* f64_name, DataType t,
                         const std::vector<llvm::Value*>& args);
  llvm::Value* emit_if_then_else(const CallNode* op);
  llvm::Value* emit_load(const LoadNode* op);
  llvm::Value* emit_prefetch(const CallNode* op);
  llvm::Value* emit_guarded_scalar_load(DataType t, llvm::Type* mem_ty, llvm::Value* addr, llvm::Align align);
  // Address of a scalar index, or a vector of addresses for a vector index; *contiguous is
  // set when index is Ramp(base, 1, lanes) and the returned pointer addresses lane 0.
  llvm::Value* emit_address(const Var& buffer, DataType elem, const Expr& index, bool* contiguous);
  llvm::Value* lookup_var(const VarNode* v) const;
  llvm::Value* to_register(DataType t, llvm::Value* memory_value);  // i8 → i1 for bool
  llvm::Value* to_memory(DataType t, llvm::Value* register_value);  // i1 → i8 for bool

  // ---- statements (codegen_llvm_stmt.cc)
  void emit(const Stmt& s);
  void emit_for(const ForNode* op);
  void emit_serial_loop(const Var& loop_var, llvm::Value* begin, llvm::Value* end, ForKind kind,
                        int64_t const_extent, const Stmt& body);
  void emit_serial_loop(const Var& loop_var, llvm::Value* begin, llvm::Value* end, ForKind kind,
                        int64_t const_extent, const std::function<void()>& emit_body);
  // A loop whose body copies a vector read across rows into a vector along a row — a
  // transpose, e.g. packing B^T into column panels or a layout change to NCHW16c — emitted as
  // blocks of contiguous row loads transposed in registers (codegen_llvm_transpose.cc);
  // false, emitting nothing, when the loop is not of that form.
  bool try_emit_transpose_loop(const ForNode* op);
  // Lanes of one transposed block for elements of `bits` (0: no transposes on this target).
  int transpose_block(int bits);
  void emit_parallel_for(const ForNode* op);
  void emit_store(const StoreNode* op);
  // A contiguous vector store of type t in register-wide pieces, each a streaming
  // (non-temporal) store where its address is aligned at run time, else an ordinary one; false,
  // emitting nothing, where the target or the width has none.
  bool emit_nontemporal_store(DataType t, llvm::Value* value, llvm::Value* addr);
  // `ret status` at the end of a function (the kernel body or an outlined parallel body),
  // fencing its streaming stores first.
  void finish_function(llvm::Value* status);
  void emit_store_fence();  // sfence: streaming stores before it are visible to other threads
  void emit_allocate(const AllocateNode* op);
  void emit_if(const IfThenElseNode* op);
  // When failed (i1) holds: frees the current function's live heap buffers and returns
  // status. Code after this continues on the success path.
  void emit_return_if(llvm::Value* failed, llvm::Value* status);
  llvm::Function* make_internal_function(const std::string& name, llvm::Type* ret,
                                         const std::vector<llvm::Type*>& params);
  llvm::AllocaInst* entry_alloca(llvm::Type* t, llvm::Value* count, uint64_t align);
  llvm::FunctionCallee runtime_function(const char* name, llvm::Type* ret, std::vector<llvm::Type*> params);
  llvm::FunctionCallee runtime_free();  // te_runtime_free, its pointer marked nocapture
  void bind(const VarNode* v, llvm::Value* value);
  void unbind(const VarNode* v);
  void set_function_attributes(llvm::Function* f);

  // Per-function state; saved and restored around an outlined parallel body.
  struct FunctionState {
    llvm::Function* function = nullptr;
    std::unordered_map<const VarNode*, llvm::Value*> vars;
    std::vector<llvm::Value*> heap_buffers;  // live te_runtime_alloc results, innermost last
    bool inside_parallel = false;
    bool nontemporal_stores = false;  // streaming stores emitted: fence before returning
  };

  const LoweredFunc& func_;
  const Target& target_;
  const CpuSpec& cpu_;
  llvm::LLVMContext& ctx_;
  std::unique_ptr<llvm::Module> module_;
  llvm::IRBuilder<> builder_;
  FunctionState state_;
  // Inside a vector if_then_else branch: the lanes whose loads may run (<n x i1>), else null.
  llvm::Value* load_mask_ = nullptr;
  // Ranges of the loops enclosing the statement being emitted, for the simplifier's bound-aware
  // rewrites (the transpose detection reads index steps through int32 -> int64 casts).
  VarRangeMap loop_ranges_;
  // > 0 inside a loop annotated pragma(axis, "nontemporal"): vector stores to the kernel's
  // argument buffers (not to its own allocations) are streaming stores.
  int nontemporal_depth_ = 0;
  std::unordered_set<const VarNode*> argument_buffers_;
  int num_outlined_ = 0;
  bool has_parallel_ = false, has_heap_alloc_ = false;
  // > 0 while emitting a load/store index. Only index arithmetic gets LLVM's nsw flag (no
  // signed overflow, which lets LLVM widen and vectorize address computations); integer data
  // arithmetic wraps in two's complement, as in the reference interpreter (with nsw, LLVM
  // folded abs(x*x + y*y) to x*x + y*y for int8 — found by tests/fuzz, seed 5056).
  int index_depth_ = 0;
  // The target's AVX-512F / AVX-512VL (looked up at the first use: -1 until then).
  int avx512f_ = -1, avx512vl_ = -1;  // set by detect_avx512() from the target's features
  void detect_avx512();
};

}  // namespace te::llvm_backend
