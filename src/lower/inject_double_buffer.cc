// inject_double_buffer: Stage::double_buffer's two-buffer, register-staged copy (the protocol is
// in inject_double_buffer.h). Works on the flat IR right after storage_flatten: a marked stage
// is AttrStmt(kDoubleBufferScopeAttr){Allocate S{Seq{copy nest, readers...}}}, placed by
// schedule_ops at the top of its attach loop's body.
#include "lower/inject_double_buffer.h"

#include <unordered_map>

#include "te/expr_ops.h"
#include "te/ir_functor.h"

namespace te {
namespace {

// One double-buffered stage found at the top of a loop's body.
struct Buffered {
  const AllocateNode* alloc;
  Stmt copy;  // the copy nest, reading the loop variable of the current iteration
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

class DoubleBufferInjector : public IRMutator {
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
      found->push_back({alloc, seq->seq[0]});
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
    Expr current_half = floormod(iter - loop->min, make_const(iter.dtype(), 2));
    Expr next_half = floormod(next - loop->min, make_const(iter.dtype(), 2));
    std::vector<Stmt> prologue, loads, stores;
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
      int64_t count = 1;
      for (const RegisterLoop& l : loops) count *= l.extent;
      if (count > kMaxDoubleBufferRegisters)
        fail("double_buffer: stage ", name_of(alloc), ": each thread would stage ", count,
             " elements in registers (its copy's serial loops), over the limit of ", kMaxDoubleBufferRegisters,
             "; copy with more threads or a smaller block");
      const Expr size = allocation_size(alloc);
      // The register of one serial iteration: row-major over the serial loops.
      Expr reg_index = make_const(DataType::int64(), 0);
      for (const RegisterLoop& l : loops)
        reg_index =
            reg_index * make_const(DataType::int64(), double(l.extent)) + cast(DataType::int64(), l.var - l.min);
      Var reg(alloc->buffer.name() + ".reg", DataType::handle());
      registers.push_back({alloc, reg, count});
      read_offsets[alloc->buffer.get()] = current_half * size;

      prologue.push_back(substitute(b.copy, {{iter.get(), loop->min}}));
      Stmt copy_next = substitute(b.copy, {{iter.get(), next}});
      loads.push_back(
          replace_store(copy_next, [&](const StoreNode* st) { return StoreNode::make(reg, st->value, reg_index); }));
      Expr store_offset = next_half * size;
      stores.push_back(replace_store(copy_next, [&](const StoreNode* st) {
        return StoreNode::make(st->buffer, LoadNode::make(st->value.dtype(), reg, reg_index),
                               st->index + cast(st->index.dtype(), store_offset));
      }));
    }
    Stmt body = SeqNode::make({IfThenElseNode::make(has_next, SeqNode::make(loads)),
                               ReadHalf(read_offsets, names).mutate(readers),
                               IfThenElseNode::make(has_next, SeqNode::make(stores))});
    Stmt result = ForNode::make(iter, loop->min, loop->extent, loop->for_kind, body, loop->thread_tag);
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
      result =
          AllocateNode::make(alloc->buffer, alloc->dtype, {size * make_const(size.dtype(), 2)}, alloc->scope, result);
    }
    return result;
  }
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

}  // namespace

Stmt inject_double_buffer(const Stmt& s) {
  Stmt out = DoubleBufferInjector().mutate(s);
  check_no_mark_left(out);
  return out;
}

Stmt strip_double_buffer(const Stmt& s) { return StripMarks().mutate(s); }

}  // namespace te
