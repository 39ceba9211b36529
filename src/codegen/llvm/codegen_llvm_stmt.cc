// Statements of the flat loop IR → LLVM control flow, the kernel's entry function, and the
// outlining of parallel loops into body functions run by te_parallel_for.
#include <llvm/IR/Constants.h>
#include <llvm/IR/MDBuilder.h>
#include <llvm/IR/IntrinsicsX86.h>
#include <llvm/IR/Verifier.h>
#include <llvm/Support/raw_ostream.h>
#include <llvm/TargetParser/Triple.h>

#include <unordered_set>

#include "codegen/llvm/codegen_llvm_impl.h"

namespace te::llvm_backend {
namespace {

// Variables a statement reads (buffer handles of Load/Store included), in first-use order.
class UsedVars : public IRVisitor {
 public:
  std::vector<const VarNode*> order;
  std::unordered_set<const VarNode*> seen;
  void add(const VarNode* v) {
    if (seen.insert(v).second) order.push_back(v);
  }

 protected:
  using IRVisitor::visit_node;
  void visit_node(const VarNode* op) override { add(op); }
  void visit_node(const LoadNode* op) override {
    add(op->buffer.get());
    IRVisitor::visit_node(op);
  }
  void visit_node(const StoreNode* op) override {
    add(op->buffer.get());
    IRVisitor::visit_node(op);
  }
};

llvm::MDNode* loop_metadata(llvm::LLVMContext& ctx, ForKind kind, int64_t const_extent) {
  std::vector<llvm::Metadata*> props;
  if (kind == ForKind::kUnrolled) {
    props.push_back(llvm::MDNode::get(
        ctx, {llvm::MDString::get(ctx, const_extent >= 0 ? "llvm.loop.unroll.full" : "llvm.loop.unroll.enable")}));
  } else if (kind == ForKind::kVectorized) {
    props.push_back(llvm::MDNode::get(
        ctx, {llvm::MDString::get(ctx, "llvm.loop.vectorize.enable"),
              llvm::ConstantAsMetadata::get(llvm::ConstantInt::getTrue(ctx))}));
  } else {
    return nullptr;
  }
  std::vector<llvm::Metadata*> ops{nullptr};
  ops.insert(ops.end(), props.begin(), props.end());
  llvm::MDNode* id = llvm::MDNode::getDistinct(ctx, ops);
  id->replaceOperandWith(0, id);  // loop IDs refer to themselves
  return id;
}

}  // namespace

CodeGenLLVM::CodeGenLLVM(const LoweredFunc& func, const Target& target, const CpuSpec& cpu, llvm::LLVMContext& ctx)
    : func_(func), target_(target), cpu_(cpu), ctx_(ctx), builder_(ctx) {}

void CodeGenLLVM::bind(const VarNode* v, llvm::Value* value) { state_.vars[v] = value; }
void CodeGenLLVM::unbind(const VarNode* v) { state_.vars.erase(v); }

void CodeGenLLVM::set_function_attributes(llvm::Function* f) {
  f->addFnAttr("target-cpu", cpu_.cpu);
  if (!cpu_.features.empty()) f->addFnAttr("target-features", cpu_.features);
  f->setDoesNotThrow();
}

llvm::Function* CodeGenLLVM::make_internal_function(const std::string& name, llvm::Type* ret,
                                                    const std::vector<llvm::Type*>& params) {
  auto* type = llvm::FunctionType::get(ret, params, false);
  llvm::Function* f = llvm::Function::Create(type, llvm::Function::InternalLinkage, name, module_.get());
  set_function_attributes(f);
  return f;
}

llvm::AllocaInst* CodeGenLLVM::entry_alloca(llvm::Type* t, llvm::Value* count, uint64_t align) {
  llvm::BasicBlock& entry = state_.function->getEntryBlock();
  llvm::IRBuilder<> b(&entry, entry.getFirstInsertionPt());
  llvm::AllocaInst* a = b.CreateAlloca(t, count);
  a->setAlignment(llvm::Align(align));
  return a;
}

llvm::FunctionCallee CodeGenLLVM::runtime_function(const char* name, llvm::Type* ret, std::vector<llvm::Type*> params) {
  return module_->getOrInsertFunction(name, llvm::FunctionType::get(ret, params, false));
}

// te_runtime_free keeps no copy of the pointer (it is free()). Declared so, a heap buffer
// does not "escape" into it, and LLVM knows the buffer aliases none of the pointers a
// parallel body loads from its closure (LICM keeps an output's stores in a loop that reads
// a buffer which may alias it).
llvm::FunctionCallee CodeGenLLVM::runtime_free() {
  llvm::FunctionCallee free_fn = runtime_function("te_runtime_free", builder_.getVoidTy(), {builder_.getPtrTy()});
  if (auto* fn = llvm::dyn_cast<llvm::Function>(free_fn.getCallee())) fn->addParamAttr(0, llvm::Attribute::NoCapture);
  return free_fn;
}

CodegenResult CodeGenLLVM::run() {
  module_ = std::make_unique<llvm::Module>(func_.name, ctx_);
  module_->setTargetTriple(cpu_.triple);
  llvm::Type* i32 = builder_.getInt32Ty();
  llvm::Type* ptr = builder_.getPtrTy();

  // The body function: one noalias pointer per buffer, one value per size variable.
  std::vector<llvm::Type*> params;
  for (const BufferArg& a : func_.args) {
    if (!a.data.defined()) fail("codegen_llvm: argument ", a.name, " of kernel ", func_.name, " has no data variable");
    params.push_back(ptr);
  }
  for (const Var& v : func_.size_vars) params.push_back(llvm_type(v.dtype()));
  llvm::Function* impl = make_internal_function(func_.name + "_impl", i32, params);
  impl->addFnAttr(llvm::Attribute::AlwaysInline);
  for (size_t i = 0; i < func_.args.size(); ++i) impl->addParamAttr(unsigned(i), llvm::Attribute::NoAlias);

  state_ = FunctionState{};
  state_.function = impl;
  builder_.SetInsertPoint(llvm::BasicBlock::Create(ctx_, "entry", impl));
  for (size_t i = 0; i < func_.args.size(); ++i) {
    impl->getArg(unsigned(i))->setName(func_.args[i].name);
    bind(func_.args[i].data.get(), impl->getArg(unsigned(i)));
    argument_buffers_.insert(func_.args[i].data.get());
  }
  for (size_t i = 0; i < func_.size_vars.size(); ++i) {
    llvm::Argument* arg = impl->getArg(unsigned(func_.args.size() + i));
    arg->setName(func_.size_vars[i].name());
    bind(func_.size_vars[i].get(), arg);
  }
  if (func_.body.defined()) emit(func_.body);
  finish_function(builder_.getInt32(0));

  // The exported entry: int32_t <name>_kernel(void** buffers, const int64_t* size_vars).
  auto* entry_type = llvm::FunctionType::get(i32, {ptr, ptr}, false);
  llvm::Function* entry = llvm::Function::Create(entry_type, llvm::Function::ExternalLinkage,
                                                 func_.name + "_kernel", module_.get());
  set_function_attributes(entry);
  builder_.SetInsertPoint(llvm::BasicBlock::Create(ctx_, "entry", entry));
  std::vector<llvm::Value*> call_args;
  for (size_t i = 0; i < func_.args.size(); ++i) {
    llvm::Value* slot = builder_.CreateConstInBoundsGEP1_64(ptr, entry->getArg(0), i);
    call_args.push_back(builder_.CreateLoad(ptr, slot, func_.args[i].name));
  }
  for (size_t i = 0; i < func_.size_vars.size(); ++i) {
    llvm::Value* slot = builder_.CreateConstInBoundsGEP1_64(builder_.getInt64Ty(), entry->getArg(1), i);
    llvm::Value* v = builder_.CreateLoad(builder_.getInt64Ty(), slot, func_.size_vars[i].name());
    call_args.push_back(emit_cast(DataType::int64(), func_.size_vars[i].dtype(), v));
  }
  builder_.CreateRet(builder_.CreateCall(impl, call_args));

  std::string errors;
  llvm::raw_string_ostream os(errors);
  if (llvm::verifyModule(*module_, &os)) TE_ICHECK(false, "codegen_llvm produced invalid LLVM IR for ", func_.name, ":\n", os.str());
  CodegenResult result;
  result.module = std::move(module_);
  result.has_parallel = has_parallel_;
  result.has_heap_alloc = has_heap_alloc_;
  return result;
}

void CodeGenLLVM::emit(const Stmt& s) {
  if (!s.defined()) return;
  switch (s->kind) {
    case StmtKind::LetStmt: {
      const auto* op = s.as<LetStmtNode>();
      bind(op->var.get(), emit(op->value));
      emit(op->body);
      unbind(op->var.get());
      return;
    }
    case StmtKind::AttrStmt: {
      const auto* op = s.as<AttrStmtNode>();
      if (op->key == kGpuAllreduceAttr)
        fail("codegen llvm: function ", func_.name, " contains a cross-thread reduction (a reduction axis ",
             "bound to threadIdx); it needs target cuda. For a CPU target leave the reduction axis unbound ",
             "(split it and parallel/vectorize the data-parallel axes instead)");
      if (op->key == kNontemporalPragma) {
        ++nontemporal_depth_;
        emit(op->body);
        --nontemporal_depth_;
        return;
      }
      emit(op->body);  // other pragmas: hints only
      return;
    }
    case StmtKind::For: emit_for(s.as<ForNode>()); return;
    case StmtKind::Store: emit_store(s.as<StoreNode>()); return;
    case StmtKind::Allocate: emit_allocate(s.as<AllocateNode>()); return;
    case StmtKind::Seq:
      for (const Stmt& part : s.as<SeqNode>()->seq) emit(part);
      return;
    case StmtKind::IfThenElse: emit_if(s.as<IfThenElseNode>()); return;
    case StmtKind::Evaluate: emit(s.as<EvaluateNode>()->value); return;
    case StmtKind::TensorStore:
    case StmtKind::Realize:
      fail("codegen_llvm: ", kind_name(s->kind), " in kernel ", func_.name,
           " — tensor-level IR must be lowered (storage flattening) before code generation");
  }
}

void CodeGenLLVM::emit_for(const ForNode* op) {
  if (op->for_kind == ForKind::kThreadBinding)
    fail("codegen_llvm: loop ", op->loop_var.name(), " of kernel ", func_.name, " is bound to ", op->thread_tag,
         "; thread bindings need a GPU target, not llvm");
  loop_ranges_[op->loop_var.get()] = Range(op->min, op->extent);
  struct Forget {  // the range holds inside this loop only (also on the error path)
    VarRangeMap& ranges;
    const VarNode* v;
    ~Forget() { ranges.erase(v); }
  } forget{loop_ranges_, op->loop_var.get()};
  if (op->for_kind == ForKind::kParallel && !state_.inside_parallel) return emit_parallel_for(op);
  DataType t = op->loop_var.dtype();
  llvm::Value* begin = emit_cast(op->min.dtype(), t, emit(op->min));
  llvm::Value* extent = emit_cast(op->extent.dtype(), t, emit(op->extent));
  llvm::Value* end = builder_.CreateAdd(begin, extent, "", false, true);
  const int64_t* c = as_const_int(op->extent);
  ForKind kind = op->for_kind == ForKind::kParallel ? ForKind::kSerial : op->for_kind;  // nested parallel
  if (kind == ForKind::kSerial && try_emit_transpose_loop(op)) return;
  emit_serial_loop(op->loop_var, begin, end, kind, c ? *c : -1, op->body);
}

void CodeGenLLVM::emit_serial_loop(const Var& loop_var, llvm::Value* begin, llvm::Value* end, ForKind kind,
                                   int64_t const_extent, const Stmt& body) {
  emit_serial_loop(loop_var, begin, end, kind, const_extent, [&] { emit(body); });
}

void CodeGenLLVM::emit_serial_loop(const Var& loop_var, llvm::Value* begin, llvm::Value* end, ForKind kind,
                                   int64_t const_extent, const std::function<void()>& emit_body) {
  llvm::Function* f = state_.function;
  llvm::BasicBlock* preheader = builder_.GetInsertBlock();
  auto* header = llvm::BasicBlock::Create(ctx_, "for_" + loop_var.name(), f);
  auto* body_bb = llvm::BasicBlock::Create(ctx_, "for_body_" + loop_var.name(), f);
  auto* exit = llvm::BasicBlock::Create(ctx_, "for_end_" + loop_var.name(), f);
  builder_.CreateBr(header);
  builder_.SetInsertPoint(header);
  llvm::PHINode* index = builder_.CreatePHI(begin->getType(), 2, loop_var.name());
  index->addIncoming(begin, preheader);
  builder_.CreateCondBr(builder_.CreateICmpSLT(index, end), body_bb, exit);
  builder_.SetInsertPoint(body_bb);
  bind(loop_var.get(), index);
  emit_body();
  unbind(loop_var.get());
  llvm::Value* next = builder_.CreateAdd(index, llvm::ConstantInt::get(begin->getType(), 1), "", false, true);
  llvm::BasicBlock* latch = builder_.GetInsertBlock();
  llvm::BranchInst* back = builder_.CreateBr(header);
  if (llvm::MDNode* md = loop_metadata(ctx_, kind, const_extent)) back->setMetadata(llvm::LLVMContext::MD_loop, md);
  index->addIncoming(next, latch);
  builder_.SetInsertPoint(exit);
}

// for (i = min; i < min + extent; ++i) body   with kParallel becomes
//   closure = {captured values..., min};  rc = te_parallel_for(outlined, &closure, extent, threads)
// where outlined(begin, end, closure) unpacks the closure and calls an always-inline body
// function taking the captured buffers as noalias pointers (so alias facts survive).
void CodeGenLLVM::emit_parallel_for(const ForNode* op) {
  has_parallel_ = true;
  UsedVars used;
  used.visit(op->body);
  std::vector<const VarNode*> captured;
  for (const VarNode* v : used.order)
    if (v != op->loop_var.get() && state_.vars.count(v)) captured.push_back(v);

  DataType t = op->loop_var.dtype();
  llvm::Value* min = emit_cast(op->min.dtype(), t, emit(op->min));
  llvm::Value* extent = emit_cast(op->extent.dtype(), DataType::int64(), emit(op->extent));
  std::vector<llvm::Type*> fields;
  std::vector<llvm::Value*> values;
  for (const VarNode* v : captured) values.push_back(state_.vars.at(v));
  values.push_back(min);
  for (llvm::Value* v : values) fields.push_back(v->getType());
  llvm::StructType* closure_type = llvm::StructType::get(ctx_, fields);
  llvm::AllocaInst* closure = entry_alloca(closure_type, nullptr, 16);
  for (size_t k = 0; k < values.size(); ++k)
    builder_.CreateStore(values[k], builder_.CreateStructGEP(closure_type, closure, unsigned(k)));

  llvm::Type* i32 = builder_.getInt32Ty();
  llvm::Type* i64 = builder_.getInt64Ty();
  llvm::Type* ptr = builder_.getPtrTy();
  std::string name = func_.name + "_parallel_" + std::to_string(num_outlined_++);
  llvm::Function* outlined = make_internal_function(name, i32, {i64, i64, ptr});
  std::vector<llvm::Type*> body_params{i64, i64};
  body_params.insert(body_params.end(), fields.begin(), fields.end());
  llvm::Function* body_fn = make_internal_function(name + "_body", i32, body_params);
  body_fn->addFnAttr(llvm::Attribute::AlwaysInline);
  for (size_t k = 0; k < captured.size(); ++k)
    if (fields[k]->isPointerTy()) body_fn->addParamAttr(unsigned(k + 2), llvm::Attribute::NoAlias);

  FunctionState saved = std::move(state_);
  llvm::IRBuilderBase::InsertPoint saved_ip = builder_.saveIP();

  // outlined: unpack the closure, call the body.
  state_ = FunctionState{};
  state_.function = outlined;
  builder_.SetInsertPoint(llvm::BasicBlock::Create(ctx_, "entry", outlined));
  std::vector<llvm::Value*> args{outlined->getArg(0), outlined->getArg(1)};
  for (size_t k = 0; k < fields.size(); ++k)
    args.push_back(builder_.CreateLoad(fields[k], builder_.CreateStructGEP(closure_type, outlined->getArg(2), unsigned(k))));
  builder_.CreateRet(builder_.CreateCall(body_fn, args));

  // body: iterations [min + begin, min + end) of the original loop, run serially.
  state_ = FunctionState{};
  state_.function = body_fn;
  state_.inside_parallel = true;
  builder_.SetInsertPoint(llvm::BasicBlock::Create(ctx_, "entry", body_fn));
  for (size_t k = 0; k < captured.size(); ++k) {
    body_fn->getArg(unsigned(k + 2))->setName(captured[k]->name);
    bind(captured[k], body_fn->getArg(unsigned(k + 2)));
  }
  llvm::Value* body_min = body_fn->getArg(unsigned(captured.size() + 2));
  llvm::Value* begin = builder_.CreateAdd(body_min, emit_cast(DataType::int64(), t, body_fn->getArg(0)));
  llvm::Value* end = builder_.CreateAdd(body_min, emit_cast(DataType::int64(), t, body_fn->getArg(1)));
  emit_serial_loop(op->loop_var, begin, end, ForKind::kSerial, -1, op->body);
  finish_function(builder_.getInt32(0));

  state_ = std::move(saved);
  builder_.restoreIP(saved_ip);
  // Streaming stores made before this loop must be visible to its other threads.
  if (state_.nontemporal_stores) emit_store_fence();
  llvm::FunctionCallee parallel_for = runtime_function("te_parallel_for", i32, {ptr, ptr, i64, i32});
  llvm::Value* rc = builder_.CreateCall(parallel_for, {outlined, closure, extent, builder_.getInt32(target_.num_threads)});
  emit_return_if(builder_.CreateICmpNE(rc, builder_.getInt32(0)), rc);
}

void CodeGenLLVM::emit_return_if(llvm::Value* failed, llvm::Value* status) {
  llvm::Function* f = state_.function;
  auto* fail_bb = llvm::BasicBlock::Create(ctx_, "fail", f);
  auto* ok_bb = llvm::BasicBlock::Create(ctx_, "ok", f);
  builder_.CreateCondBr(failed, fail_bb, ok_bb, llvm::MDBuilder(ctx_).createUnlikelyBranchWeights());
  builder_.SetInsertPoint(fail_bb);
  llvm::FunctionCallee free_fn = runtime_free();
  for (auto it = state_.heap_buffers.rbegin(); it != state_.heap_buffers.rend(); ++it) builder_.CreateCall(free_fn, {*it});
  builder_.CreateRet(status);
  builder_.SetInsertPoint(ok_bb);
}

void CodeGenLLVM::emit_store(const StoreNode* op) {
  DataType t = op->value.dtype();
  if (op->index.dtype().lanes != t.lanes && !(op->index.as<RampNode>() && op->index.as<RampNode>()->lanes == t.lanes))
    fail("codegen_llvm: store of ", t.str(), " to ", op->buffer.name(), " with an index of ",
         op->index.dtype().lanes, " lanes in kernel ", func_.name);
  llvm::Value* value = to_memory(t, emit(op->value));
  bool contiguous = false;
  llvm::Value* addr = emit_address(op->buffer, t.element_of(), op->index, &contiguous);
  llvm::Align align(t.element_of().bytes());
  if (contiguous && t.lanes > 1 && nontemporal_depth_ > 0 && argument_buffers_.count(op->buffer.get()) &&
      emit_nontemporal_store(t, value, addr))
    return;
  if (t.lanes == 1 || contiguous) builder_.CreateAlignedStore(value, addr, align);
  else builder_.CreateMaskedScatter(value, addr, align);
}

// x86's streaming stores (vmovntps) need an address aligned to their width, which the kernel
// cannot know for an argument buffer (NDArray::empty gives 64 bytes, a NumPy array 16): the
// vector is stored in register-wide pieces, each testing its address and taking the streaming
// or the ordinary store — one predictable branch per cache line, all of a row going the same
// way; a partial last piece (a 56-float row: 3 x 16 + 8) is an ordinary store. Whole 64-byte
// lines written by streaming stores skip the read-for-ownership an ordinary store of a line
// not in cache costs (3 memory transfers per element become 2). They are weakly ordered: the
// function fences them before it returns (finish_function) and before it starts a parallel
// loop, whose other threads might read them.
bool CodeGenLLVM::emit_nontemporal_store(DataType t, llvm::Value* value, llvm::Value* addr) {
  if (!llvm::Triple(cpu_.triple).isX86() || t.is_bool()) return false;
  detect_avx512();
  const int64_t register_bytes = avx512f_ ? 64 : 32, element_bytes = t.bytes();
  const int64_t piece_lanes = std::min<int64_t>(t.lanes, register_bytes / element_bytes);
  const int64_t piece_bytes = piece_lanes * element_bytes;
  if (piece_bytes < 16 || (piece_bytes & (piece_bytes - 1)) != 0) return false;
  llvm::Type* element_type = llvm_memory_type(t.element_of());
  llvm::Function* f = state_.function;
  auto lanes_of = [&](int64_t begin, int64_t count) {
    if (count == t.lanes) return value;
    std::vector<int> lanes;
    for (int64_t l = begin; l < begin + count; ++l) lanes.push_back(int(l));
    return builder_.CreateShuffleVector(value, lanes);
  };
  int64_t begin = 0;
  for (; begin + piece_lanes <= t.lanes; begin += piece_lanes) {
    llvm::Value* piece = lanes_of(begin, piece_lanes);
    llvm::Value* piece_addr = builder_.CreateConstInBoundsGEP1_64(element_type, addr, uint64_t(begin));
    auto* streaming_bb = llvm::BasicBlock::Create(ctx_, "store_nt", f);
    auto* ordinary_bb = llvm::BasicBlock::Create(ctx_, "store_plain", f);
    auto* merge_bb = llvm::BasicBlock::Create(ctx_, "store_done", f);
    llvm::Value* low_bits =
        builder_.CreateAnd(builder_.CreatePtrToInt(piece_addr, builder_.getInt64Ty()), uint64_t(piece_bytes - 1));
    builder_.CreateCondBr(builder_.CreateICmpEQ(low_bits, builder_.getInt64(0)), streaming_bb, ordinary_bb);
    builder_.SetInsertPoint(streaming_bb);
    llvm::StoreInst* streaming = builder_.CreateAlignedStore(piece, piece_addr, llvm::Align(uint64_t(piece_bytes)));
    streaming->setMetadata(llvm::LLVMContext::MD_nontemporal,
                           llvm::MDNode::get(ctx_, {llvm::ConstantAsMetadata::get(builder_.getInt32(1))}));
    builder_.CreateBr(merge_bb);
    builder_.SetInsertPoint(ordinary_bb);
    builder_.CreateAlignedStore(piece, piece_addr, llvm::Align(uint64_t(element_bytes)));
    builder_.CreateBr(merge_bb);
    builder_.SetInsertPoint(merge_bb);
  }
  if (begin < t.lanes) {
    llvm::Value* rest_addr = builder_.CreateConstInBoundsGEP1_64(element_type, addr, uint64_t(begin));
    builder_.CreateAlignedStore(lanes_of(begin, t.lanes - begin), rest_addr, llvm::Align(uint64_t(element_bytes)));
  }
  state_.nontemporal_stores = true;
  return true;
}

void CodeGenLLVM::emit_store_fence() {
  builder_.CreateCall(llvm::Intrinsic::getDeclaration(module_.get(), llvm::Intrinsic::x86_sse_sfence));
}

void CodeGenLLVM::finish_function(llvm::Value* status) {
  if (state_.nontemporal_stores) emit_store_fence();
  builder_.CreateRet(status);
}

void CodeGenLLVM::emit_allocate(const AllocateNode* op) {
  DataType elem = op->dtype.element_of();
  llvm::Type* elem_type = llvm_memory_type(elem);
  int64_t const_count = op->dtype.lanes;
  for (const Expr& e : op->extents) {
    const int64_t* c = as_const_int(e);
    if (!c) { const_count = -1; break; }
    if (*c < 0) fail("codegen_llvm: allocation ", op->buffer.name(), " in kernel ", func_.name, " has a negative extent ", *c);
    const_count *= *c;
  }
  if (const_count >= 0 && const_count * elem.bytes() <= kMaxStackAllocBytes) {
    llvm::AllocaInst* a = entry_alloca(llvm::ArrayType::get(elem_type, uint64_t(std::max<int64_t>(const_count, 1))), nullptr, 64);
    a->setName(op->buffer.name());
    bind(op->buffer.get(), a);
    emit(op->body);
    unbind(op->buffer.get());
    return;
  }
  // Heap: too large for a worker's stack, or a size known only at run time.
  has_heap_alloc_ = true;
  llvm::Type* i64 = builder_.getInt64Ty();
  llvm::Value* bytes = llvm::ConstantInt::get(i64, elem.bytes() * op->dtype.lanes);
  for (const Expr& e : op->extents) bytes = builder_.CreateMul(bytes, emit_cast(e.dtype(), DataType::int64(), emit(e)));
  llvm::FunctionCallee alloc_fn = runtime_function("te_runtime_alloc", builder_.getPtrTy(), {i64});
  llvm::CallInst* buffer = builder_.CreateCall(alloc_fn, {bytes}, op->buffer.name());
  buffer->addRetAttr(llvm::Attribute::NoAlias);  // fresh memory from aligned_alloc(64, ...)
  buffer->addRetAttr(llvm::Attribute::getWithAlignment(ctx_, llvm::Align(64)));
  emit_return_if(builder_.CreateIsNull(buffer), builder_.getInt32(-1));
  state_.heap_buffers.push_back(buffer);
  bind(op->buffer.get(), buffer);
  emit(op->body);
  unbind(op->buffer.get());
  state_.heap_buffers.pop_back();
  builder_.CreateCall(runtime_free(), {buffer});
}

void CodeGenLLVM::emit_if(const IfThenElseNode* op) {
  llvm::Value* cond = emit(op->condition);
  if (op->condition.dtype().lanes != 1)
    fail("codegen_llvm: if condition of kernel ", func_.name, " is a vector (", op->condition.dtype().str(), ")");
  llvm::Function* f = state_.function;
  auto* then_bb = llvm::BasicBlock::Create(ctx_, "then", f);
  auto* merge_bb = llvm::BasicBlock::Create(ctx_, "endif", f);
  auto* else_bb = op->else_case.defined() ? llvm::BasicBlock::Create(ctx_, "else", f) : merge_bb;
  builder_.CreateCondBr(cond, then_bb, else_bb);
  builder_.SetInsertPoint(then_bb);
  emit(op->then_case);
  builder_.CreateBr(merge_bb);
  if (op->else_case.defined()) {
    builder_.SetInsertPoint(else_bb);
    emit(op->else_case);
    builder_.CreateBr(merge_bb);
  }
  builder_.SetInsertPoint(merge_bb);
}

CodegenResult codegen_llvm(const LoweredFunc& func, const Target& target, const CpuSpec& cpu, llvm::LLVMContext& context) {
  return CodeGenLLVM(func, target, cpu, context).run();
}

}  // namespace te::llvm_backend
