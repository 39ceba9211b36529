// inject_double_buffer: Stage::double_buffer's two-buffer, register-staged copy (the protocol is
// in inject_double_buffer.h). Works on the flat IR right after storage_flatten: a marked stage
// is AttrStmt(kDoubleBufferScopeAttr){Allocate S{Seq{copy nest, readers...}}}, placed by
// schedule_ops at the top of its attach loop's body.
#include "lower/inject_double_buffer.h"

#include <unordered_map>

#include "ir/simplify.h"
#include "te/expr_ops.h"
#include "te/ir_functor.h"

namespace te {
namespace {

// One double-buffered stage found at the top of a loop's body.
struct Buffered {
  const AllocateNode* alloc;
  Stmt copy;  // the copy nest, reading the loop variable of the current iteration
  int64_t stages;  // buffers asked for (Stage::pipeline; 2: double_buffer)
};

std::string name_of(const AllocateNode* alloc) { return alloc->buffer.name(); }

// Elements of a (flat) allocation.
Expr allocation_size(const AllocateNode* alloc) {
  Expr size = make_const(DataType::int64(), 1);
  for (const Expr& extent : alloc->extents) size = size * extent;
  return size;
}

// The copy's serial loops, outermost first: each is one dimension of the thread's registers.
struct RegisterLoop {
  Var var;
  Expr min;
  int64_t extent;
};

// Checks that `copy` is a nest of loops and guards around one Store into the stage's buffer,
// and collects its serial loops.
void check_copy_nest(const Stmt& s, const AllocateNode* alloc, std::vector<RegisterLoop>* loops) {
  const std::string stage = name_of(alloc);
  if (const auto* loop = s.as<ForNode>()) {
    if (loop->for_kind != ForKind::kThreadBinding) {
      const int64_t* extent = as_const_int(loop->extent);
      if (!extent)
        fail("double_buffer: stage ", stage, ": its copy loop ", loop->loop_var.name(), " has extent ",
             to_string(loop->extent),
             ", not a constant; each thread stages its share in registers, so "
             "the share must have a constant size (split the copy by constant factors)");
      loops->push_back({loop->loop_var, loop->min, *extent});
    }
    check_copy_nest(loop->body, alloc, loops);
  } else if (const auto* cond = s.as<IfThenElseNode>(); cond && !cond->else_case.defined()) {
    check_copy_nest(cond->then_case, alloc, loops);
  } else if (const auto* store = s.as<StoreNode>(); store && store->buffer.same_as(alloc->buffer)) {
    return;
  } else {
    fail("double_buffer: stage ", stage, ": its copy is not a nest of loops around one store into its buffer (found ",
         "a statement of kind ", kind_name(s->kind), ", e.g. another stage computed inside it); double-buffer a plain ",
         "cache_read copy of a tensor");
  }
}

// The copy nest with its store replaced by make_store(store) and its serial loops unrolled
// (so the registers are indexed by constants: registers, not local memory).
Stmt replace_store(const Stmt& s, const std::function<Stmt(const StoreNode*)>& make_store) {
  if (const auto* loop = s.as<ForNode>()) {
    const ForKind kind = loop->for_kind == ForKind::kSerial ? ForKind::kUnrolled : loop->for_kind;
    return ForNode::make(loop->loop_var, loop->min, loop->extent, kind, replace_store(loop->body, make_store),
                         loop->thread_tag);
  }
  if (const auto* cond = s.as<IfThenElseNode>())
    return IfThenElseNode::make(cond->condition, replace_store(cond->then_case, make_store));
  return make_store(s.as<StoreNode>());
}

// Every read of a double-buffered buffer offset into the half of the current iteration;
// te::Error for a write outside the stage's copy.
class ReadHalf : public IRMutator {
 public:
  ReadHalf(std::unordered_map<const VarNode*, Expr> offsets, std::unordered_map<const VarNode*, std::string> names)
      : offsets_(std::move(offsets)), names_(std::move(names)) {}

 protected:
  Expr mutate_node(const LoadNode* op, const Expr& self) override {
    Expr index = mutate(op->index);
    auto it = offsets_.find(op->buffer.get());
    if (it == offsets_.end()) return index.same_as(op->index) ? self : LoadNode::make(op->dtype, op->buffer, index);
    return LoadNode::make(op->dtype, op->buffer, index + cast(index.dtype(), it->second));
  }
  Stmt mutate_node(const StoreNode* op, const Stmt& self) override {
    if (offsets_.count(op->buffer.get()))
      fail("double_buffer: stage ", names_.at(op->buffer.get()),
           ": its buffer is written outside its copy (by a reader in the same loop); only a stage that "
           "the loop's body reads can be double-buffered");
    return IRMutator::mutate_node(op, self);
  }

 private:
  std::unordered_map<const VarNode*, Expr> offsets_;
  std::unordered_map<const VarNode*, std::string> names_;
};

// The scopes of the buffers allocated in a statement (a buffer allocated nowhere is an argument:
// global memory).
std::unordered_map<const VarNode*, std::string> allocation_scopes(const Stmt& s) {
  std::unordered_map<const VarNode*, std::string> scopes;
  post_order_visit(
      s, [](const Expr&) {},
      [&](const Stmt& st) {
        if (const auto* alloc = st.as<AllocateNode>()) scopes[alloc->buffer.get()] = alloc->scope;
      });
  return scopes;
}

// The global-memory Load a copy's value reads: the value itself, or the taken branch of a
// padding if_then_else(cond, load, 0) (cp.async zero-fills when cond is false); nullptr when
// the value is anything else, also when `cond` would be needed but is null.
const LoadNode* copied_load(const Expr& value, Expr* cond) {
  if (const auto* load = value.as<LoadNode>()) return load;
  const auto* call = value.as<CallNode>();
  if (!cond || !call || call->op != Intrinsic::kIfThenElse || call->args[0].dtype().lanes != 1) return nullptr;
  const auto* load = call->args[1].as<LoadNode>();
  Expr zero = call->args[2];
  if (const auto* b = zero.as<BroadcastNode>()) zero = b->value;
  if (!load || !is_zero(zero)) return nullptr;
  *cond = call->args[0];
  return load;
}

bool is_global(const VarNode* buffer, const std::unordered_map<const VarNode*, std::string>& scopes) {
  auto it = scopes.find(buffer);
  return it == scopes.end() || it->second == "global";
}

// Whether the copy nest's store can become cp.async (after vectorization): a shared stage
// copying global memory as it is (or zero for padding), 4 or 8 bytes an element, or 1-2 bytes in
// a vectorized loop of 4, 8 or 16 bytes. lower_async_copies checks again on the vectorized
// store and leaves a plain store where it no longer holds.
bool async_copy_possible(const Stmt& copy, const AllocateNode* alloc,
                         const std::unordered_map<const VarNode*, std::string>& scopes) {
  if (alloc->scope != "shared") return false;
  const StoreNode* store = nullptr;
  const ForNode* innermost = nullptr;
  post_order_visit(
      copy, [](const Expr&) {},
      [&](const Stmt& st) {
        if (const auto* s = st.as<StoreNode>()) store = s;
        if (const auto* loop = st.as<ForNode>(); loop && !innermost) innermost = loop;  // post order: inner first
      });
  Expr cond;
  const LoadNode* load = store ? copied_load(store->value, &cond) : nullptr;
  if (!load || !is_global(load->buffer.get(), scopes) || load->dtype != alloc->dtype) return false;
  const int64_t bytes = alloc->dtype.bytes();
  if (bytes == 4 || bytes == 8) return true;
  const int64_t* lanes = innermost && innermost->for_kind == ForKind::kVectorized ? as_const_int(innermost->extent)
                                                                                     : nullptr;
  return lanes && (*lanes * bytes == 4 || *lanes * bytes == 8 || *lanes * bytes == 16);
}

// The copy nest with its store moved to `offset` further into the buffer and marked to be
// issued asynchronously (kAsyncCopyAttr).
Stmt mark_async(const Stmt& s, const Expr& offset) {
  if (const auto* loop = s.as<ForNode>())
    return ForNode::make(loop->loop_var, loop->min, loop->extent, loop->for_kind, mark_async(loop->body, offset),
                         loop->thread_tag);
  if (const auto* cond = s.as<IfThenElseNode>())
    return IfThenElseNode::make(cond->condition, mark_async(cond->then_case, offset));
  const auto* st = s.as<StoreNode>();
  return AttrStmtNode::make(kAsyncCopyAttr, Expr(0),
                            StoreNode::make(st->buffer, st->value, st->index + cast(st->index.dtype(), offset)));
}

Stmt async_call(Intrinsic op, std::vector<Expr> args) {
  return EvaluateNode::make(CallNode::make(DataType::int32(), op, std::move(args)));
}

class DoubleBufferInjector : public IRMutator {
 public:
  DoubleBufferInjector(bool async_copies, std::unordered_map<const VarNode*, std::string> scopes)
      : async_copies_(async_copies), scopes_(std::move(scopes)) {}

 protected:
  Stmt mutate_node(const ForNode* op, const Stmt& self) override {
    Stmt body = mutate(op->body);  // inner loops first: their stages are theirs
    std::vector<Buffered> found;
    body = take_marked(body, &found);
    if (found.empty())
      return body.same_as(op->body)
                 ? self
                 : ForNode::make(op->loop_var, op->min, op->extent, op->for_kind, body, op->thread_tag);
    if (op->for_kind != ForKind::kSerial && op->for_kind != ForKind::kUnrolled)
      fail("double_buffer: stage ", name_of(found[0].alloc), " is computed at loop ", op->loop_var.name(), ", a ",
           for_kind_name(op->for_kind), " loop; compute_at it at a serial loop of its reader (the loop over k blocks)");
    return rewrite(op, body, found);
  }

 private:
  // Removes the marked stages directly in this loop's body (not inside inner loops) and
  // returns the rest: each mark's Allocate is replaced by what followed its copy.
  Stmt take_marked(const Stmt& s, std::vector<Buffered>* found) {
    if (const auto* attr = s.as<AttrStmtNode>()) {
      if (attr->key != kDoubleBufferScopeAttr) {
        Stmt body = take_marked(attr->body, found);
        return body.same_as(attr->body) ? s : AttrStmtNode::make(attr->key, attr->value, body);
      }
      const auto* alloc = attr->body.as<AllocateNode>();
      TE_ICHECK(alloc, "double_buffer: the mark does not enclose an allocation");
      const auto* seq = alloc->body.as<SeqNode>();
      if (!seq || seq->seq.size() < 2)
        fail("double_buffer: stage ", name_of(alloc), " has no reader after its copy in the same loop");
      const int64_t* stages = as_const_int(attr->value);
      found->push_back({alloc, seq->seq[0], stages && *stages > 2 ? *stages : 2});
      return take_marked(SeqNode::make(std::vector<Stmt>(seq->seq.begin() + 1, seq->seq.end())), found);
    }
    if (const auto* alloc = s.as<AllocateNode>()) {
      Stmt body = take_marked(alloc->body, found);
      return body.same_as(alloc->body)
                 ? s
                 : AllocateNode::make(alloc->buffer, alloc->dtype, alloc->extents, alloc->scope, body);
    }
    if (const auto* seq = s.as<SeqNode>()) {
      std::vector<Stmt> parts;
      bool changed = false;
      for (const Stmt& part : seq->seq) {
        parts.push_back(take_marked(part, found));
        changed = changed || !parts.back().same_as(part);
      }
      return changed ? SeqNode::make(parts) : s;
    }
    return s;  // loops, guards, stores: marks below them are not this loop's
  }

  Stmt rewrite(const ForNode* loop, const Stmt& readers, const std::vector<Buffered>& found) {
    const Var& iter = loop->loop_var;
    Expr next = iter + make_const(iter.dtype(), 1);
    Expr has_next = next < loop->min + loop->extent;
    Expr end = loop->min + loop->extent;
    // The buffer (of `stages`) that block `block` of the loop goes to, as an element offset.
    auto slot = [&](const Expr& block, int64_t stages, const Expr& size) {
      return floormod(block - loop->min, make_const(iter.dtype(), double(stages))) * cast(iter.dtype(), size);
    };
    std::vector<Stmt> prologue, loads, stores, async_loads;
    // Asynchronous copies: prologue_groups[p], the copies of block min + p (a group each); the
    // fewest buffers any of them has (how far ahead every copy must have landed).
    std::vector<std::vector<Stmt>> prologue_groups;
    int64_t fewest_async_stages = 0;
    std::unordered_map<const AllocateNode*, int64_t> buffers;
    std::unordered_map<const VarNode*, Expr> read_offsets;
    struct Registers {
      const AllocateNode* alloc;
      Var reg;
      int64_t count;
    };
    std::vector<Registers> registers;
    // What the loop writes holds this iteration's values: a copy reading it cannot be moved an
    // iteration ahead.
    std::unordered_map<const VarNode*, std::string> written, names;
    post_order_visit(
        readers, [](const Expr&) {},
        [&](const Stmt& st) {
          if (const auto* store = st.as<StoreNode>()) written[store->buffer.get()] = store->buffer.name();
        });
    for (const Buffered& b : found) written[b.alloc->buffer.get()] = names[b.alloc->buffer.get()] = name_of(b.alloc);
    for (const Buffered& b : found) {
      const AllocateNode* alloc = b.alloc;
      post_order_visit(b.copy, [&](const Expr& e) {
        const auto* load = e.as<LoadNode>();
        if (load && written.count(load->buffer.get()))
          fail("double_buffer: stage ", name_of(alloc), " copies from ", written.at(load->buffer.get()),
               ", which is written in the same loop iteration; only a copy of a tensor computed outside the loop "
               "(an input, or a stage computed before it) can be loaded one iteration ahead");
      });
      std::vector<RegisterLoop> loops;
      check_copy_nest(b.copy, alloc, &loops);
      const Expr size = allocation_size(alloc);
      if (async_copies_ && async_copy_possible(b.copy, alloc, scopes_)) {
        // cp.async: block L + stages - 1 goes straight into its buffer, no registers; the
        // first stages - 1 blocks before the loop.
        const int64_t stages = b.stages;
        buffers[alloc] = stages;
        read_offsets[alloc->buffer.get()] = slot(iter, stages, size);
        fewest_async_stages = fewest_async_stages ? std::min(fewest_async_stages, stages) : stages;
        if (prologue_groups.size() < size_t(stages - 1)) prologue_groups.resize(size_t(stages - 1));
        for (int64_t p = 0; p + 1 < stages; ++p) {
          Expr block = loop->min + make_const(iter.dtype(), double(p));
          Stmt copy = mark_async(substitute(b.copy, {{iter.get(), block}}), slot(block, stages, size));
          prologue_groups[size_t(p)].push_back(p == 0 ? copy : IfThenElseNode::make(block < end, copy));
        }
        Expr ahead = iter + make_const(iter.dtype(), double(stages - 1));
        async_loads.push_back(IfThenElseNode::make(
            ahead < end, mark_async(substitute(b.copy, {{iter.get(), ahead}}), slot(ahead, stages, size))));
        continue;
      }
      buffers[alloc] = 2;
      read_offsets[alloc->buffer.get()] = slot(iter, 2, size);
      int64_t count = 1;
      for (const RegisterLoop& l : loops) count *= l.extent;
      if (count > kMaxDoubleBufferRegisters)
        fail("double_buffer: stage ", name_of(alloc), ": each thread would stage ", count,
             " elements in registers (its copy's serial loops), over the limit of ", kMaxDoubleBufferRegisters,
             "; copy with more threads or a smaller block");
      // The register of one serial iteration: row-major over the serial loops.
      Expr reg_index = make_const(DataType::int64(), 0);
      for (const RegisterLoop& l : loops)
        reg_index =
            reg_index * make_const(DataType::int64(), double(l.extent)) + cast(DataType::int64(), l.var - l.min);
      Var reg(alloc->buffer.name() + ".reg", DataType::handle());
      registers.push_back({alloc, reg, count});

      prologue.push_back(substitute(b.copy, {{iter.get(), loop->min}}));
      Stmt copy_next = substitute(b.copy, {{iter.get(), next}});
      loads.push_back(
          replace_store(copy_next, [&](const StoreNode* st) { return StoreNode::make(reg, st->value, reg_index); }));
      Expr store_offset = slot(next, 2, size);
      stores.push_back(replace_store(copy_next, [&](const StoreNode* st) {
        return StoreNode::make(st->buffer, LoadNode::make(st->value.dtype(), reg, reg_index),
                               st->index + cast(st->index.dtype(), store_offset));
      }));
    }
    // The asynchronous copies started before the readers form one group per iteration (committed
    // by every thread, copies or not) and are waited for after them, up to the next block: with
    // S buffers block L + 1's group is S - 2 groups older than the newest. The barrier that
    // insert_shared_barriers puts at the end of the body (a wait counts as a write of shared
    // memory) then publishes it to the next iteration's readers, and keeps the next
    // iteration's copies (into the buffer read now) behind this iteration's reads.
    const bool any_async = fewest_async_stages > 0;
    auto wait = [](int64_t in_flight) {
      return async_call(Intrinsic::kCpAsyncWait, {make_const(DataType::int32(), double(in_flight))});
    };
    std::vector<Stmt> body_parts;
    if (!loads.empty()) body_parts.push_back(IfThenElseNode::make(has_next, SeqNode::make(loads)));
    body_parts.insert(body_parts.end(), async_loads.begin(), async_loads.end());
    if (any_async) body_parts.push_back(async_call(Intrinsic::kCpAsyncCommit, {}));
    body_parts.push_back(ReadHalf(read_offsets, names).mutate(readers));
    if (!stores.empty()) body_parts.push_back(IfThenElseNode::make(has_next, SeqNode::make(stores)));
    if (any_async) body_parts.push_back(wait(fewest_async_stages - 2));
    Stmt body = SeqNode::make(body_parts);
    Stmt result = ForNode::make(iter, loop->min, loop->extent, loop->for_kind, body, loop->thread_tag);
    for (const std::vector<Stmt>& group : prologue_groups) {
      prologue.insert(prologue.end(), group.begin(), group.end());
      prologue.push_back(async_call(Intrinsic::kCpAsyncCommit, {}));
    }
    if (any_async) prologue.push_back(wait(int64_t(prologue_groups.size()) - 1));  // block min has landed
    Stmt first = SeqNode::make(prologue);
    if (const int64_t* extent = as_const_int(loop->extent); !extent || *extent < 1)
      first = IfThenElseNode::make(loop->extent > make_const(loop->extent.dtype(), 0), first);
    result = SeqNode::make({first, result});
    for (auto it = registers.rbegin(); it != registers.rend(); ++it)
      result = AllocateNode::make(it->reg, it->alloc->dtype, {make_const(DataType::int64(), double(it->count))},
                                  "local", result);
    for (auto it = found.rbegin(); it != found.rend(); ++it) {
      const AllocateNode* alloc = it->alloc;
      const Expr size = allocation_size(alloc);
      result = AllocateNode::make(alloc->buffer, alloc->dtype, {size * make_const(size.dtype(), double(buffers[alloc]))},
                                  alloc->scope, result);
    }
    return result;
  }

  bool async_copies_;
  std::unordered_map<const VarNode*, std::string> scopes_;
};

// te::Error for a mark no loop took: the stage is not computed inside a loop.
void check_no_mark_left(const Stmt& s) {
  post_order_visit(
      s, [](const Expr&) {},
      [](const Stmt& st) {
        const auto* attr = st.as<AttrStmtNode>();
        if (!attr || attr->key != kDoubleBufferScopeAttr) return;
        const auto* alloc = attr->body.as<AllocateNode>();
        fail("double_buffer: stage ", alloc ? name_of(alloc) : std::string("?"),
             " is not computed inside a loop of its reader; compute_at it at the reader's loop over k blocks "
             "(e.g. s[AS].compute_at(s[CL], ko)) so the next block can be loaded during the current one");
      });
}

class StripMarks : public IRMutator {
 protected:
  Stmt mutate_node(const AttrStmtNode* op, const Stmt& self) override {
    if (op->key == kDoubleBufferScopeAttr) return mutate(op->body);
    return IRMutator::mutate_node(op, self);
  }
};

// The contiguous start of a store's or load's index for `lanes` elements: the index itself for
// one, a stride-1 Ramp's base for several; undefined otherwise.
Expr contiguous_base(const Expr& index, int lanes) {
  if (lanes == 1) return index.dtype().lanes == 1 ? index : Expr();
  const auto* ramp = index.as<RampNode>();
  return ramp && is_one(ramp->stride) && ramp->lanes == lanes ? ramp->base : Expr();
}

bool aligned_to(const Expr& base, int lanes) {
  return lanes == 1 || can_prove(floormod(base, make_const(base.dtype(), double(lanes))) == make_zero(base.dtype()));
}

class AsyncCopyLowerer : public IRMutator {
 public:
  explicit AsyncCopyLowerer(std::unordered_map<const VarNode*, std::string> scopes) : scopes_(std::move(scopes)) {}

 protected:
  Stmt mutate_node(const AttrStmtNode* op, const Stmt& self) override {
    if (op->key != kAsyncCopyAttr) return IRMutator::mutate_node(op, self);
    const auto* store = op->body.as<StoreNode>();
    TE_ICHECK(store, "lower_async_copies: the async_copy mark does not hold a store");
    Expr cond = make_const(DataType::boolean(), 1);
    const LoadNode* load = copied_load(store->value, &cond);
    const int lanes = store->value.dtype().lanes;
    const int64_t bytes = int64_t(lanes) * store->value.dtype().bytes();
    Expr dst = contiguous_base(store->index, lanes), src = load ? contiguous_base(load->index, lanes) : Expr();
    // Anything cp.async cannot copy in one instruction stays a plain store: still correct (its
    // write is seen by the barrier before the readers), only not overlapped.
    if (!load || !is_global(load->buffer.get(), scopes_) || (bytes != 4 && bytes != 8 && bytes != 16) ||
        !dst.defined() || !src.defined() || !aligned_to(dst, lanes) || !aligned_to(src, lanes))
      return op->body;
    return async_call(Intrinsic::kCpAsync, {store->buffer, dst, Expr(load), cond});
  }

 private:
  std::unordered_map<const VarNode*, std::string> scopes_;
};

}  // namespace

bool cuda_async_copies(const Target& target) {
  const int arch = target.cuda_arch_number();
  return arch == 0 || arch >= 80;
}

Stmt lower_async_copies(const Stmt& s) { return AsyncCopyLowerer(allocation_scopes(s)).mutate(s); }

Stmt inject_double_buffer(const Stmt& s, bool async_copies) {
  Stmt out = DoubleBufferInjector(async_copies, allocation_scopes(s)).mutate(s);
  check_no_mark_left(out);
  return out;
}

Stmt strip_double_buffer(const Stmt& s) { return StripMarks().mutate(s); }

}  // namespace te
