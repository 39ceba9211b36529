// GPU target passes: thread-extent inference/checks (infer_gpu_launch) and shared-memory
// barrier insertion (insert_shared_barriers). See cuda_threads.h.
#include "lower/cuda_threads.h"

#include <unordered_map>
#include <unordered_set>

#include "ir/simplify.h"
#include "lower/gpu_allreduce.h"
#include "lower/stage_name.h"
#include "te/ir_functor.h"

namespace te {

bool parse_thread_tag(const std::string& tag, bool* is_block, int* dim) {
  std::string axis;
  if (tag.rfind("blockIdx.", 0) == 0) {
    *is_block = true;
    axis = tag.substr(9);
  } else if (tag.rfind("threadIdx.", 0) == 0) {
    *is_block = false;
    axis = tag.substr(10);
  } else {
    return false;
  }
  if (axis.size() != 1 || axis[0] < 'x' || axis[0] > 'z') return false;
  *dim = axis[0] - 'x';
  return true;
}

namespace {

constexpr int64_t kMaxThreadsPerBlock = 1024;

std::string stage_label(const Stmt& body) {
  std::string stage = stage_of(body);
  return stage.empty() ? std::string("a stage") : "stage " + stage;
}

// A cross-thread reduction first writes its local buffers: name it by its outputs.
std::string allreduce_stage_label(const AttrStmtNode* allreduce) {
  const AttrStmtNode* result = allreduce_part(allreduce, kGpuAllreduceResult);
  return stage_label(result ? result->body : allreduce->body);
}

// Walks the kernel, tracking whether the current statement runs inside a thread-bound loop.
class LaunchInference : public IRVisitor {
 public:
  struct Seen {
    Expr extent;
    std::string stage;
  };
  std::unordered_map<std::string, Seen> extents;  // by thread tag
  std::string first_unbound;                       // error text for the first unbound loop
  int thread_depth = 0;

 protected:
  void visit_node(const ForNode* op) override {
    if (op->for_kind == ForKind::kParallel)
      fail(stage_label(op->body), ": loop ", op->loop_var.name(),
           " is parallel(); on target cuda bind it to blockIdx/threadIdx instead");
    if (op->for_kind != ForKind::kThreadBinding) {
      if (thread_depth == 0 && first_unbound.empty())
        first_unbound = detail::cat(stage_label(op->body), ": loop ", op->loop_var.name(),
                                    " is not bound to a thread; bind it to blockIdx.x or move it inside");
      IRVisitor::visit_node(op);
      return;
    }
    bool is_block = false;
    int dim = 0;
    if (op->thread_tag != "vthread") {
      if (!parse_thread_tag(op->thread_tag, &is_block, &dim))
        fail(stage_label(op->body), ": loop ", op->loop_var.name(), " is bound to unknown thread tag '",
             op->thread_tag, "'; expected blockIdx.x/y/z, threadIdx.x/y/z or vthread");
      Expr extent = simplify(op->extent);
      if (!is_block && !as_const_int(extent))
        fail(stage_label(op->body), ": loop ", op->loop_var.name(), " is bound to ", op->thread_tag,
             " with a non-constant extent ", to_string(extent),
             "; split the axis by a constant factor and bind the inner part to threads");
      auto it = extents.find(op->thread_tag);
      if (it == extents.end()) {
        extents.emplace(op->thread_tag, Seen{extent, stage_of(op->body)});
      } else if (!is_block) {
        // A stage may use fewer threads (e.g. a cooperative load of a smaller tile): the block
        // has the largest extent, and the backend guards the smaller stages.
        if (*as_const_int(extent) > *as_const_int(it->second.extent)) it->second = Seen{extent, stage_of(op->body)};
      } else if (!structural_equal(it->second.extent, extent)) {
        fail(stage_label(op->body), ": ", op->thread_tag, " has extent ", to_string(extent), " here but ",
             to_string(it->second.extent), " in stage ", it->second.stage,
             "; every stage of a kernel must bind a block axis with the same extent (split by the same factor)");
      }
    }
    ++thread_depth;
    IRVisitor::visit_node(op);
    --thread_depth;
  }
  void visit_node(const AttrStmtNode* op) override {
    // Every thread of the block runs a cross-thread reduction: it is thread scope.
    bool allreduce = op->key == kGpuAllreduceAttr;
    thread_depth += allreduce;
    IRVisitor::visit_node(op);
    thread_depth -= allreduce;
  }
  void visit_node(const StoreNode* op) override {
    if (thread_depth == 0 && first_unbound.empty())
      first_unbound = detail::cat("stage ", op->buffer.name(),
                                  ": a store runs outside any thread-bound loop; bind its loops to blockIdx/threadIdx");
    IRVisitor::visit_node(op);
  }
  void visit_node(const AllocateNode* op) override {
    if (thread_depth == 0 && op->scope == "global")
      fail("stage ", op->buffer.name(), ": its buffer (scope global) would be allocated inside the kernel ",
           "outside any thread-bound loop; compute_at it inside a bound loop, inline it, or cache it to "
           "\"shared\"/\"local\"");
    IRVisitor::visit_node(op);
  }
};

// A cross-thread reduction synchronizes the whole block, so every thread must reach it in the
// same way, and the threads it combines must all want the same result. Checked against the
// launch configuration (stage names from the loops around it). A barrier (insert_shared_barriers;
// codegen_cuda checks the final body through split_gpu_kernels) must not be inside a threadIdx
// loop narrower than the block either: found by the CUDA emulator (te_fuzz seeds 17 and 225,
// a shared cache compute_at inside a stage that binds fewer threads than the cache's load).
class AllreducePlacement : public IRVisitor {
 public:
  explicit AllreducePlacement(const GpuLaunchConfig& launch) : launch_(launch) {}

 protected:
  void check_barrier() const {
    for (const ForNode* loop : enclosing_) {
      bool is_block = false;
      int dim = 0;
      if (loop->for_kind != ForKind::kThreadBinding || !parse_thread_tag(loop->thread_tag, &is_block, &dim) || is_block)
        continue;
      const std::optional<int64_t> extent = simplify_to_const(loop->extent);
      if (extent && *extent < launch_.block[dim])
        fail(stage_label(loop->body), ": a __syncthreads() for shared memory computed inside it is inside loop ",
             loop->loop_var.name(), " bound to ", loop->thread_tag, " with extent ", *extent, ", but the block has ",
             launch_.block[dim], " threads in that dimension (bound by another stage); the other threads would skip "
             "the barrier and the shared loads they own. Bind ", loop->thread_tag,
             " with the same extent in every stage of the kernel, or compute_at the shared stage outside that loop");
    }
  }

  void visit_node(const ForNode* op) override {
    enclosing_.push_back(op);
    IRVisitor::visit_node(op);
    enclosing_.pop_back();
  }
  void visit_node(const IfThenElseNode* op) override {
    conditions_.push_back(op->condition);
    IRVisitor::visit_node(op);
    conditions_.pop_back();
  }
  void visit_node(const AttrStmtNode* op) override {
    if (op->key == kGpuBarrierAttr) {
      check_barrier();
      return;
    }
    if (op->key != kGpuAllreduceAttr) {
      IRVisitor::visit_node(op);
      return;
    }
    std::string stage = allreduce_stage_label(op);
    const int64_t* mask = as_const_int(op->value);
    TE_ICHECK(mask != nullptr, "gpu_allreduce without a thread mask");
    if (inside_)
      fail(stage, ": a cross-thread reduction is nested inside another one's per-thread part; compute it at a "
                  "data-parallel axis instead");
    if (!conditions_.empty())
      fail(stage, ": its cross-thread reduction runs under the condition ", to_string(conditions_.back()),
           "; it synchronizes the whole block, so every thread must reach it. Compute it at a loop outside the "
           "condition (or make the split that creates the condition exact)");
    std::unordered_set<const VarNode*> thread_vars;
    for (const ForNode* loop : enclosing_) {
      bool is_block = false;
      int dim = 0;
      bool bound = loop->for_kind == ForKind::kThreadBinding && parse_thread_tag(loop->thread_tag, &is_block, &dim);
      if (bound && !is_block && ((*mask >> dim) & 1))
        fail(stage, ": its reduction is bound to ", loop->thread_tag, ", but it is computed inside loop ",
             loop->loop_var.name(), ", which is bound to ", loop->thread_tag,
             " as well; the threads would disagree on which element they reduce. compute_at it outside that loop");
      if (bound && !is_block) {
        const std::optional<int64_t> extent = simplify_to_const(loop->extent);
        if (extent && *extent < launch_.block[dim])
          fail(stage, ": its cross-thread reduction is inside loop ", loop->loop_var.name(), " bound to ",
               loop->thread_tag, " with extent ", *extent, ", but the block has ", launch_.block[dim],
               " threads in that dimension; the idle threads must join the reduction's barriers, so bind ",
               loop->thread_tag, " with the same extent in every stage of the kernel");
        thread_vars.insert(loop->loop_var.get());
      }
      if (!bound) {
        bool thread_dependent = false;
        post_order_visit(loop->extent, [&](const Expr& e) {
          if (const auto* v = e.as<VarNode>(); v && thread_vars.count(v)) thread_dependent = true;
        });
        if (thread_dependent)
          fail(stage, ": its cross-thread reduction is inside loop ", loop->loop_var.name(),
               " whose extent depends on the thread index; every thread must run it the same number of times");
      }
    }
    for (int d = 0; d < 3; ++d)
      if (((*mask >> d) & 1) && launch_.block[d] < 1)
        fail(stage, ": a threadIdx extent is ", launch_.block[d], "; expected >= 1");
    inside_ = true;
    IRVisitor::visit_node(op);
    inside_ = false;
  }

 private:
  const GpuLaunchConfig& launch_;
  std::vector<const ForNode*> enclosing_;
  std::vector<Expr> conditions_;
  bool inside_ = false;
};

// Which of the shared buffers s writes and reads.
struct SharedAccess {
  bool writes = false, reads = false;
};
SharedAccess shared_access(const Stmt& s, const std::unordered_set<const VarNode*>& shared) {
  SharedAccess acc;
  post_order_visit(
      s,
      [&](const Expr& e) {
        if (const auto* load = e.as<LoadNode>(); load && shared.count(load->buffer.get())) acc.reads = true;
        // A wmma load reads its memory operand (argument 2), a wmma store writes it (argument 0).
        if (const auto* call = e.as<CallNode>()) {
          auto buffer = [&](size_t i) { return shared.count(call->args[i].as<VarNode>()) > 0; };
          if (call->op == Intrinsic::kWmmaLoad && buffer(2)) acc.reads = true;
          if (call->op == Intrinsic::kWmmaStore && buffer(0)) acc.writes = true;
          // An asynchronous copy lands in shared memory at the wait for its group (whatever
          // buffer it fills): that is the write a reader in another thread needs a barrier
          // after. The cp_async itself is not: its destination is a half no one reads until
          // then (inject_double_buffer.h).
          if (call->op == Intrinsic::kCpAsyncWait) acc.writes = true;
        }
      },
      [&](const Stmt& st) {
        if (const auto* store = st.as<StoreNode>(); store && shared.count(store->buffer.get())) acc.writes = true;
      });
  return acc;
}

class BarrierInserter : public IRMutator {
 public:
  explicit BarrierInserter(std::unordered_set<const VarNode*> shared) : shared_(std::move(shared)) {}

 protected:
  Stmt mutate_node(const SeqNode* op, const Stmt& self) override {
    bool written = false;  // a shared buffer was written by an earlier statement
    return place(self, &written);
  }
  // s with barriers before each statement that reads shared memory after a write. Sequences
  // and allocations (not control flow) are walked into, so the barrier lands right before the
  // first reader: for two shared tiles, each allocated around the next, the copy of the second
  // no longer waits behind a barrier after the first (one barrier, not two, before the reads).
  Stmt place(const Stmt& s, bool* written) {
    if (const auto* seq = s.as<SeqNode>()) {
      std::vector<Stmt> out;
      for (const Stmt& child : seq->seq) out.push_back(place(child, written));
      return SeqNode::make(out);
    }
    if (const auto* alloc = s.as<AllocateNode>())
      return AllocateNode::make(alloc->buffer, alloc->dtype, alloc->extents, alloc->scope, place(alloc->body, written));
    Stmt c = mutate(s);
    SharedAccess acc = shared_access(c, shared_);
    if (*written && acc.reads) {
      c = SeqNode::make({make_gpu_barrier(), c});
      *written = false;
    }
    if (acc.writes) *written = true;
    return c;
  }
  Stmt mutate_node(const ForNode* op, const Stmt& self) override {
    Stmt body = mutate(op->body);
    if (op->for_kind != ForKind::kThreadBinding) {
      SharedAccess acc = shared_access(body, shared_);
      if (acc.writes && acc.reads) body = SeqNode::make({body, make_gpu_barrier()});
    }
    if (body.same_as(op->body)) return self;
    return ForNode::make(op->loop_var, op->min, op->extent, op->for_kind, body, op->thread_tag);
  }

 private:
  std::unordered_set<const VarNode*> shared_;
};

}  // namespace

GpuLaunchConfig infer_gpu_launch(const Stmt& body, const std::string& func_name) {
  LaunchInference inference;
  inference.visit(body);
  if (inference.extents.empty())
    fail("kernel ", func_name, ": target cuda needs loops bound to GPU threads, but no axis is bound; "
         "split the outer axis of the output stage and bind the parts, e.g. s[C].bind(xo, "
         "thread_axis(\"blockIdx.x\")) and s[C].bind(xi, thread_axis(\"threadIdx.x\"))");
  if (!inference.first_unbound.empty()) fail(inference.first_unbound);
  GpuLaunchConfig config;
  for (int d = 0; d < 3; ++d) config.grid[d] = Expr(1);
  std::string product;
  for (const auto& [tag, seen] : inference.extents) {
    bool is_block = false;
    int dim = 0;
    if (!parse_thread_tag(tag, &is_block, &dim)) continue;
    if (is_block) {
      config.grid[dim] = seen.extent;
    } else {
      config.block[dim] = *as_const_int(seen.extent);
      product += (product.empty() ? "" : " x ") + tag + "=" + std::to_string(config.block[dim]);
    }
  }
  for (int d = 0; d < 3; ++d)
    if (config.block[d] < 1) fail("kernel ", func_name, ": a threadIdx extent is ", config.block[d], "; expected >= 1");
  if (config.threads_per_block() > kMaxThreadsPerBlock)
    fail("kernel ", func_name, ": ", config.threads_per_block(), " threads per block (", product,
         ") exceeds the CUDA limit of ", kMaxThreadsPerBlock, "; use smaller factors for the threadIdx axes");
  AllreducePlacement(config).visit(body);
  return config;
}

namespace {

void collect_root(const Stmt& s, GpuKernelSplit* split, std::vector<Stmt>* roots) {
  if (!s.defined()) return;
  if (const auto* seq = s.as<SeqNode>()) {
    for (const Stmt& c : seq->seq) collect_root(c, split, roots);
    return;
  }
  if (const auto* alloc = s.as<AllocateNode>(); alloc && alloc->scope == "global") {
    split->intermediates.push_back({alloc->buffer, alloc->dtype, alloc->extents});
    collect_root(alloc->body, split, roots);
    return;
  }
  if (const auto* attr = s.as<AttrStmtNode>(); attr && attr->key == kGpuBarrierAttr) return;
  if (const auto* eval = s.as<EvaluateNode>(); eval && as_const_int(eval->value)) return;  // a no-op
  roots->push_back(s);
}

}  // namespace

GpuKernelSplit split_gpu_kernels(const Stmt& body, const std::string& func_name) {
  GpuKernelSplit split;
  std::vector<Stmt> roots;
  collect_root(body, &split, &roots);
  if (roots.empty() || (roots.size() == 1 && split.intermediates.empty())) {
    split.kernels.push_back({body, infer_gpu_launch(body, func_name), stage_of(body)});
    return split;
  }
  for (size_t k = 0; k < roots.size(); ++k) {
    std::string stage = stage_of(roots[k]);
    std::string label = detail::cat(func_name, "_kernel", k, " (", stage.empty() ? "a root stage" : "root stage " + stage,
                                    " of ", func_name, ", which runs as ", roots.size(), " kernels)");
    split.kernels.push_back({roots[k], infer_gpu_launch(roots[k], label), stage});
  }
  return split;
}

Stmt make_gpu_barrier() { return AttrStmtNode::make(kGpuBarrierAttr, Expr(0), EvaluateNode::make(Expr(0))); }

Stmt insert_shared_barriers(const Stmt& body) {
  std::unordered_set<const VarNode*> shared;
  post_order_visit(
      body, [](const Expr&) {},
      [&](const Stmt& st) {
        if (const auto* alloc = st.as<AllocateNode>(); alloc && alloc->scope == "shared")
          shared.insert(alloc->buffer.get());
      });
  if (shared.empty()) return body;
  return BarrierInserter(std::move(shared)).mutate(body);
}

}  // namespace te
