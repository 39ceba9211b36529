// src/codegen/cuda/cuda_emulator_run.h — the CUDA emulator's internals (see cuda_emulator.h):
// buffers with race bookkeeping, per-thread interpreters, and KernelRun, which runs one kernel
// launch. cuda_emulator.cc runs launches; cuda_emulator_warp.cc holds the warp-wide operations
// (cross-thread reductions, tensor-core wmma calls).
#pragma once

#include <algorithm>
#include <cmath>
#include <cstring>
#include <functional>
#include <memory>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "codegen/runtime/module_node.h"
#include "ir/half.h"
#include "ir/interpreter.h"
#include "lower/cuda_threads.h"
#include "te/ir_functor.h"

namespace te::cuda_emu {


inline constexpr int64_t kNobody = -1;  // no thread accessed the element (in this interval)
inline constexpr int64_t kSeveral = -2;  // several threads did

inline void poison(unsigned char* p, DataType t, int64_t n) {
  if (t.is_float() && t.bits == 32) {
    float v = std::nanf("");
    for (int64_t k = 0; k < n; ++k) std::memcpy(p + 4 * k, &v, 4);
  } else if (t.is_float() && t.bits == 64) {
    double v = std::nan("");
    for (int64_t k = 0; k < n; ++k) std::memcpy(p + 8 * k, &v, 8);
  } else if (t.is_float() && t.bits == 16) {
    for (int64_t k = 0; k < n; ++k) detail::store_half(p, k, std::nan(""));
  } else {
    std::memset(p, 0xAB, size_t(n * t.bytes()));
  }
}

// One buffer as the kernel sees it: global (an argument or a device intermediate), shared (one
// per block) or local (one per thread). Shared and global ones carry the race bookkeeping.
struct EmuBuffer {
  std::string name, scope;
  DataType dtype;
  int64_t numel = 0;
  unsigned char* data = nullptr;
  std::vector<unsigned char> owned;
  bool tracked = false;
  std::vector<int64_t> writer, reader;   // global thread id, kNobody or kSeveral
  std::vector<uint64_t> wepoch, repoch;  // the barrier interval of the last write / reads
  std::unordered_map<int64_t, std::vector<int64_t>> writers;  // kSeveral writers (one value)

  EmuBuffer(std::string n, std::string s, DataType t, int64_t count, void* external, bool track)
      : name(std::move(n)), scope(std::move(s)), dtype(t.element_of()), numel(count), tracked(track) {
    if (external) {
      data = static_cast<unsigned char*>(external);
    } else {
      owned.resize(size_t(count * dtype.bytes()) + 16);
      data = owned.data();
      poison(data, dtype, count);
    }
    if (tracked) {
      writer.assign(size_t(count), kNobody);
      reader.assign(size_t(count), kNobody);
      wepoch.assign(size_t(count), 0);
      repoch.assign(size_t(count), 0);
    }
  }
};

// The bytes of lane l of v stored as an element of type t.
inline void encode(const Value& v, int l, DataType t, unsigned char* out) {
  if (t.is_float()) {
    double x = v.as_float(v.dtype.lanes == 1 ? 0 : l);
    if (t.bits == 16) {
      detail::store_half(out, 0, x);  // rounds to binary16, as a __half store does
    } else if (t.bits == 32) {
      float f = float(x);
      std::memcpy(out, &f, 4);
    } else {
      std::memcpy(out, &x, 8);
    }
    return;
  }
  int64_t x = v.as_int(v.dtype.lanes == 1 ? 0 : l);
  if (t.is_bool()) x = x != 0;
  std::memcpy(out, &x, size_t(t.bytes()));  // little-endian: the low bytes
}

// One element of an asynchronous copy (cp.async) in flight: written to shared memory when the
// thread waits for its group, so a reader that does not wait (and pass a barrier) sees the
// poison or the old block.
struct PendingCopy {
  EmuBuffer* dst;
  int64_t element;
  unsigned char bytes[8];
};

struct Thread {
  Interpreter in;
  int64_t tid = 0;  // linear in the block, x fastest
  int64_t idx[3] = {0, 0, 0};
  std::unordered_map<const VarNode*, EmuBuffer*> bufs;
  std::vector<std::unique_ptr<EmuBuffer>> locals;  // nested Allocates: a stack
  size_t wmma_ops = 0;  // tensor-core operations run in the current block
  std::vector<PendingCopy> open_copies;              // started since the last commit
  std::vector<std::vector<PendingCopy>> copy_groups;  // committed, oldest first
};

// The value of element e of b (the wmma operations' float16 / float32 buffers).
inline double element(const EmuBuffer* b, int64_t e) {
  return read_buffer_element(InterpBuffer{b->data, b->dtype, b->numel}, e).as_float();
}

class KernelRun {
 public:
  KernelRun(std::string kernel, const Stmt& body, const GpuLaunchConfig& launch, const int64_t grid[3],
            const std::vector<std::pair<Var, Value>>& scalars, const std::vector<std::pair<Var, EmuBuffer*>>& globals,
            int64_t* executed, int64_t max_statements)
      : kernel_(std::move(kernel)), body_(body), launch_(launch), executed_(executed), max_statements_(max_statements) {
    for (int d = 0; d < 3; ++d) grid_[d] = grid[d];
    T_ = launch.threads_per_block();
    for (int64_t t = 0; t < T_; ++t) {
      auto th = std::make_unique<Thread>();
      th->tid = t;
      th->idx[0] = t % launch.block[0];
      th->idx[1] = (t / launch.block[0]) % launch.block[1];
      th->idx[2] = t / (launch.block[0] * launch.block[1]);
      for (const auto& [v, value] : scalars) th->in.bind(v, value);
      for (const auto& [v, b] : globals) bind(*th, v, b);
      Thread* self = th.get();
      th->in.on_load = [this, self](const VarNode* buf, int64_t e) { on_read(*self, buf, e); };
      threads_.push_back(std::move(th));
    }
    for (const auto& [v, b] : globals) {  // a launch boundary orders everything before it
      std::fill(b->writer.begin(), b->writer.end(), kNobody);
      std::fill(b->reader.begin(), b->reader.end(), kNobody);
      std::fill(b->wepoch.begin(), b->wepoch.end(), 0);  // epochs restart with each launch
      std::fill(b->repoch.begin(), b->repoch.end(), 0);
      b->writers.clear();
    }
    mark_sync(body_);
  }

  void run() {
    for (block_[2] = 0; block_[2] < grid_[2]; ++block_[2])
      for (block_[1] = 0; block_[1] < grid_[1]; ++block_[1])
        for (block_[0] = 0; block_[0] < grid_[0]; ++block_[0]) {
          block_linear_ = (block_[2] * grid_[1] + block_[1]) * grid_[0] + block_[0];
          ++epoch_;
          shared_.clear();
          wmma_log_.clear();
          for (auto& t : threads_) t->wmma_ops = 0;
          exec_block(body_);
          check_wmma_warps();
          for (auto& t : threads_) {  // groups left in flight are fine when empty (a pipeline's last ones)
            bool pending = !t->open_copies.empty();
            for (const auto& group : t->copy_groups) pending = pending || !group.empty();
            if (pending)
              fail(where(), who(gid(*t)), " ends with asynchronous copies it never waited for (cp.async without a ",
                   "cp.async.wait_group after it)");
            t->copy_groups.clear();
          }
        }
  }

 private:
  // ------------------------------------------------------------ identities and messages
  int64_t gid(const Thread& t) const { return block_linear_ * T_ + t.tid; }
  std::string who(int64_t g) const {
    int64_t b = g / T_, t = g % T_;
    int64_t bx = b % grid_[0], by = (b / grid_[0]) % grid_[1], bz = b / (grid_[0] * grid_[1]);
    int64_t tx = t % launch_.block[0], ty = (t / launch_.block[0]) % launch_.block[1],
            tz = t / (launch_.block[0] * launch_.block[1]);
    return detail::cat("block (", bx, ", ", by, ", ", bz, ") thread (", tx, ", ", ty, ", ", tz, ")");
  }
  std::string where() const { return "cuda emulator: kernel " + kernel_ + ": "; }

  // ------------------------------------------------------------ memory
  void bind(Thread& t, const Var& v, EmuBuffer* b) {
    t.bufs[v.get()] = b;
    t.in.bind_buffer(v, InterpBuffer{b->data, b->dtype, b->numel});
  }
  void unbind(Thread& t, const Var& v) {
    t.bufs.erase(v.get());
    t.in.unbind_buffer(v);
  }
  EmuBuffer* buffer(Thread& t, const VarNode* v) {
    auto it = t.bufs.find(v);
    TE_ICHECK(it != t.bufs.end(), "cuda emulator: buffer ", v->name, " is not bound");
    return it->second;
  }
  void check_bounds(const Thread& t, const EmuBuffer* b, int64_t e, const char* access) const {
    if (e < 0 || e >= b->numel)
      fail(where(), "out-of-bounds ", access, " of ", b->scope, " buffer ", b->name, ": element ", e, " of ", b->numel,
           ", by ", who(gid(t)));
  }
  // Whether an earlier access by g conflicts with one by the current thread: another block
  // (never ordered within a launch), or another thread of this block in this barrier interval.
  bool conflicts(int64_t g, uint64_t epoch, int64_t me) const {
    if (g == kNobody || g == me) return false;
    return g / T_ != block_linear_ || epoch == epoch_;
  }
  void race(const EmuBuffer* b, int64_t e, const std::string& first, const std::string& second) const {
    fail(where(), "data race on ", b->scope, " buffer ", b->name, " element ", e, ": ", first, ", then ", second,
         b->scope == "shared" ? " in the same barrier interval (a missing __syncthreads())"
                              : " without a barrier between them (or in two blocks of one launch)");
  }

  void on_read(Thread& t, const VarNode* v, int64_t e) {
    EmuBuffer* b = buffer(t, v);
    check_bounds(t, b, e, "read");
    if (!b->tracked) return;
    const int64_t me = gid(t);
    int64_t w = b->writer[size_t(e)];
    if (w == kSeveral) {
      const std::vector<int64_t>& ws = b->writers[e];
      if (std::find(ws.begin(), ws.end(), me) == ws.end())
        for (int64_t o : ws)
          if (conflicts(o, b->wepoch[size_t(e)], me)) race(b, e, who(o) + " wrote it", who(me) + " read it");
    } else if (conflicts(w, b->wepoch[size_t(e)], me)) {
      race(b, e, who(w) + " wrote it", who(me) + " read it");
    }
    if (b->repoch[size_t(e)] != epoch_ || b->reader[size_t(e)] == kNobody) {
      b->reader[size_t(e)] = me;
      b->repoch[size_t(e)] = epoch_;
    } else if (b->reader[size_t(e)] != me) {
      b->reader[size_t(e)] = kSeveral;
    }
  }

  void write(Thread& t, EmuBuffer* b, int64_t e, const unsigned char* bytes) {
    check_bounds(t, b, e, "write");
    const size_t n = size_t(b->dtype.bytes());
    unsigned char* p = b->data + e * int64_t(n);
    if (b->tracked) {
      const int64_t me = gid(t);
      // Writing the value the element already holds cannot change what anyone reads (threads
      // that redundantly compute one stage do this), so only value changes are races.
      const bool same = std::memcmp(p, bytes, n) == 0;
      int64_t r = b->reader[size_t(e)];
      if (!same && b->repoch[size_t(e)] == epoch_ && r != kNobody && r != me)
        race(b, e, r == kSeveral ? std::string("other threads of the block read it") : who(r) + " read it",
             who(me) + " wrote it");
      int64_t w = b->writer[size_t(e)];
      std::vector<int64_t> others;
      if (w == kSeveral) others = b->writers[e];
      else if (w != kNobody) others.push_back(w);
      bool conflict = false;
      for (int64_t o : others) conflict = conflict || conflicts(o, b->wepoch[size_t(e)], me);
      if (conflict && !same) race(b, e, who(others.back()) + " wrote it", who(me) + " wrote another value");
      if (conflict) {
        if (std::find(others.begin(), others.end(), me) == others.end()) others.push_back(me);
        b->writer[size_t(e)] = kSeveral;
        b->writers[e] = others;
      } else {
        b->writer[size_t(e)] = me;
        if (w == kSeveral) b->writers.erase(e);
      }
      b->wepoch[size_t(e)] = epoch_;
    }
    std::memcpy(p, bytes, n);
  }

  void store(Thread& t, const StoreNode* op) {
    Value v = t.in.eval(op->value), idx = t.in.eval(op->index);
    EmuBuffer* b = buffer(t, op->buffer.get());
    unsigned char bytes[8];
    for (int l = 0; l < v.dtype.lanes; ++l) {
      encode(v, l, b->dtype, bytes);
      write(t, b, idx.as_int(idx.dtype.lanes == 1 ? 0 : l), bytes);
    }
  }

  // Shared buffers: one per block and Allocate node, poisoned when the block starts using it.
  EmuBuffer* shared_buffer(const AllocateNode* op, Thread& t) {
    auto it = shared_.find(op);
    if (it != shared_.end()) return it->second.get();
    int64_t n = 1;
    for (const Expr& e : op->extents) n *= t.in.eval(e).as_int();
    auto b = std::make_unique<EmuBuffer>(op->buffer.name(), "shared", op->dtype, n, nullptr, true);
    EmuBuffer* raw = b.get();
    shared_.emplace(op, std::move(b));
    return raw;
  }
  // Everything else allocated inside a kernel is a per-thread array (as codegen_cuda prints it).
  void push_local(Thread& t, const AllocateNode* op) {
    int64_t n = 1;
    for (const Expr& e : op->extents) n *= t.in.eval(e).as_int();
    TE_ICHECK(n >= 0 && n < (int64_t(1) << 30), "cuda emulator: local buffer of ", n, " elements");
    t.locals.push_back(std::make_unique<EmuBuffer>(op->buffer.name(), "local", op->dtype, n, nullptr, false));
    bind(t, op->buffer, t.locals.back().get());
  }
  void enter_allocate(Thread& t, const AllocateNode* op) {
    if (op->scope == "shared") bind(t, op->buffer, shared_buffer(op, t));
    else push_local(t, op);
  }
  void leave_allocate(Thread& t, const AllocateNode* op) {
    unbind(t, op->buffer);
    if (op->scope != "shared") t.locals.pop_back();
  }

  // ------------------------------------------------------------ one thread
  // The value a thread-bound loop variable takes in thread t; false when a narrower threadIdx
  // loop excludes t (codegen_cuda's `if (threadIdx.x < extent)` guard).
  bool thread_value(Thread& t, const ForNode* op, int64_t* value) {
    bool is_block = false;
    int dim = 0;
    TE_ICHECK(parse_thread_tag(op->thread_tag, &is_block, &dim), "cuda emulator: thread tag ", op->thread_tag);
    int64_t lo = t.in.eval(op->min).as_int();
    if (is_block) {
      *value = block_[dim] + lo;
      return true;
    }
    *value = t.idx[dim] + lo;
    return t.idx[dim] < t.in.eval(op->extent).as_int();
  }
  static bool is_thread_loop(const ForNode* op) {
    return op->for_kind == ForKind::kThreadBinding && op->thread_tag != "vthread";
  }

  void exec_thread(Thread& t, const Stmt& s) {
    if (!s.defined()) return;
    if (max_statements_ && ++*executed_ > max_statements_)
      fail(where(), "stopped after ", max_statements_, " statements (CudaEmulateOptions::max_statements): the "
           "emulator interprets every thread, so emulate smaller shapes");
    switch (s->kind) {
      case StmtKind::LetStmt: {
        const auto* op = s.as<LetStmtNode>();
        t.in.bind(op->var, t.in.eval(op->value));
        exec_thread(t, op->body);
        t.in.unbind(op->var);
        return;
      }
      case StmtKind::AttrStmt: {
        const auto* op = s.as<AttrStmtNode>();
        TE_ICHECK(op->key != kGpuBarrierAttr && op->key != kGpuAllreduceAttr, "cuda emulator: unexpected ", op->key);
        exec_thread(t, op->body);
        return;
      }
      case StmtKind::For: {
        const auto* op = s.as<ForNode>();
        if (is_thread_loop(op)) {
          int64_t v = 0;
          if (!thread_value(t, op, &v)) return;
          t.in.bind(op->loop_var, Value::from_int(op->loop_var.dtype(), v));
          exec_thread(t, op->body);
          t.in.unbind(op->loop_var);
          return;
        }
        int64_t lo = t.in.eval(op->min).as_int(), n = t.in.eval(op->extent).as_int();
        for (int64_t v = lo; v < lo + n; ++v) {
          t.in.bind(op->loop_var, Value::from_int(op->loop_var.dtype(), v));
          exec_thread(t, op->body);
        }
        t.in.unbind(op->loop_var);
        return;
      }
      case StmtKind::Store: store(t, s.as<StoreNode>()); return;
      case StmtKind::Allocate: {
        const auto* op = s.as<AllocateNode>();
        enter_allocate(t, op);
        exec_thread(t, op->body);
        leave_allocate(t, op);
        return;
      }
      case StmtKind::Seq:
        for (const Stmt& c : s.as<SeqNode>()->seq) exec_thread(t, c);
        return;
      case StmtKind::IfThenElse: {
        const auto* op = s.as<IfThenElseNode>();
        if (t.in.eval(op->condition).as_bool()) exec_thread(t, op->then_case);
        else exec_thread(t, op->else_case);
        return;
      }
      case StmtKind::Evaluate: {
        const auto* call = s.as<EvaluateNode>()->value.as<CallNode>();
        if (call && is_wmma(call->op)) wmma(t, call);
        else if (call && is_async_copy(call->op)) async_copy(t, call);
        else t.in.eval(s.as<EvaluateNode>()->value);
        return;
      }
      case StmtKind::TensorStore:
      case StmtKind::Realize: TE_ICHECK(false, "cuda emulator: ", kind_name(s->kind), " left after lowering");
    }
  }

  // ------------------------------------------------------------ the whole block
  // Marks the statements with a barrier or a cross-thread reduction inside.
  bool mark_sync(const Stmt& s) {
    if (!s.defined()) return false;
    bool any = false;
    switch (s->kind) {
      case StmtKind::LetStmt: any = mark_sync(s.as<LetStmtNode>()->body); break;
      case StmtKind::AttrStmt: {
        const auto* op = s.as<AttrStmtNode>();
        any = mark_sync(op->body) || op->key == kGpuBarrierAttr || op->key == kGpuAllreduceAttr;
        break;
      }
      case StmtKind::For: any = mark_sync(s.as<ForNode>()->body); break;
      case StmtKind::Allocate: any = mark_sync(s.as<AllocateNode>()->body); break;
      case StmtKind::Seq:
        for (const Stmt& c : s.as<SeqNode>()->seq) any = mark_sync(c) || any;
        break;
      case StmtKind::IfThenElse: {
        const auto* op = s.as<IfThenElseNode>();
        bool a = mark_sync(op->then_case), b = mark_sync(op->else_case);
        any = a || b;
        break;
      }
      default: break;
    }
    if (any) sync_.insert(s.get());
    return any;
  }

  [[noreturn]] void divergent(const std::string& what, const Thread& a, const Thread& b) const {
    fail(where(), "barrier in divergent control flow: ", what, " differs between ", who(gid(a)), " and ", who(gid(b)),
         " around a __syncthreads() or cross-thread reduction (on a GPU some threads would skip the barrier)");
  }
  // Evaluates e in every thread and checks it is uniform over the block.
  int64_t uniform(const Expr& e, const std::string& what) {
    int64_t v0 = threads_[0]->in.eval(e).as_int();
    for (auto& t : threads_)
      if (t->in.eval(e).as_int() != v0) divergent(what + " " + to_string(e), *threads_[0], *t);
    return v0;
  }

  void exec_block(const Stmt& s) {
    if (!s.defined()) return;
    if (!sync_.count(s.get())) {
      for (auto& t : threads_) exec_thread(*t, s);
      return;
    }
    switch (s->kind) {
      case StmtKind::LetStmt: {
        const auto* op = s.as<LetStmtNode>();
        for (auto& t : threads_) t->in.bind(op->var, t->in.eval(op->value));
        exec_block(op->body);
        for (auto& t : threads_) t->in.unbind(op->var);
        return;
      }
      case StmtKind::AttrStmt: {
        const auto* op = s.as<AttrStmtNode>();
        if (op->key == kGpuBarrierAttr) ++epoch_;
        else if (op->key == kGpuAllreduceAttr) allreduce(op);
        else exec_block(op->body);
        return;
      }
      case StmtKind::For: {
        const auto* op = s.as<ForNode>();
        if (is_thread_loop(op)) {
          for (auto& t : threads_) {
            int64_t v = 0;
            if (!thread_value(*t, op, &v))
              divergent("the thread guard " + op->thread_tag + " < " + to_string(op->extent), *threads_[0], *t);
            t->in.bind(op->loop_var, Value::from_int(op->loop_var.dtype(), v));
          }
          exec_block(op->body);
        } else {
          int64_t lo = uniform(op->min, "the start of loop " + op->loop_var.name());
          int64_t n = uniform(op->extent, "the extent of loop " + op->loop_var.name());
          for (int64_t v = lo; v < lo + n; ++v) {
            for (auto& t : threads_) t->in.bind(op->loop_var, Value::from_int(op->loop_var.dtype(), v));
            exec_block(op->body);
          }
        }
        for (auto& t : threads_) t->in.unbind(op->loop_var);
        return;
      }
      case StmtKind::Allocate: {
        const auto* op = s.as<AllocateNode>();
        for (auto& t : threads_) enter_allocate(*t, op);
        exec_block(op->body);
        for (auto& t : threads_) leave_allocate(*t, op);
        return;
      }
      case StmtKind::Seq:
        for (const Stmt& c : s.as<SeqNode>()->seq) exec_block(c);
        return;
      case StmtKind::IfThenElse: {
        const auto* op = s.as<IfThenElseNode>();
        if (uniform(op->condition, "the condition")) exec_block(op->then_case);
        else exec_block(op->else_case);
        return;
      }
      default: TE_ICHECK(false, "cuda emulator: ", kind_name(s->kind), " holding a barrier");
    }
  }

  // ------------------------------------------------------------ cross-thread reductions
  int64_t linear_thread(const Thread& t, int dims) const {  // linear_thread in cuda_allreduce.cc
    int64_t s = 0, stride = 1;
    for (int d = 0; d < 3; ++d) {
      if (!((dims >> d) & 1) || launch_.block[d] == 1) continue;
      s += t.idx[d] * stride;
      stride *= launch_.block[d];
    }
    return s;
  }

  void allreduce(const AttrStmtNode* op);

  // ------------------------------------------------------------ asynchronous copies
  // cp.async reads its source when issued (the source is global memory the kernel does not
  // write) and lands in shared memory when the thread waits for its group: the write is
  // checked for races there, and any read before it sees the poison or the previous block.
  void async_copy(Thread& t, const CallNode* op) {
    if (op->op == Intrinsic::kCpAsyncCommit) {
      t.copy_groups.push_back(std::move(t.open_copies));
      t.open_copies.clear();
      return;
    }
    if (op->op == Intrinsic::kCpAsyncWait) {
      const size_t keep = size_t(*as_const_int(op->args[0]));
      while (t.copy_groups.size() > keep) {
        for (const PendingCopy& c : t.copy_groups.front()) write(t, c.dst, c.element, c.bytes);
        t.copy_groups.erase(t.copy_groups.begin());
      }
      return;
    }
    EmuBuffer* dst = buffer(t, op->args[0].as<VarNode>());
    const int64_t first = t.in.eval(op->args[1]).as_int();
    const DataType type = op->args[2].dtype();
    const bool valid = t.in.eval(op->args[3]).as_bool();
    const Value v = valid ? t.in.eval(op->args[2]) : Value::from_float(type, 0.0);
    for (int l = 0; l < type.lanes; ++l) {
      PendingCopy c{dst, first + l, {}};
      check_bounds(t, dst, c.element, "write (cp.async)");
      encode(v, l, dst->dtype, c.bytes);
      t.open_copies.push_back(c);
    }
  }

  // ------------------------------------------------------------ tensor cores (wmma)
  // Each lane holds a whole copy of its fragments (a "local" buffer) and runs every wmma
  // operation itself; on a GPU the warp runs it once, spread over its lanes. The two agree
  // when all 32 lanes of a warp run the same operations with the same operands, which is
  // checked: each warp's first lane to reach its n-th operation logs it, the others must match.
  void wmma(Thread& t, const CallNode* op);
  void check_wmma_warps() const;
  int64_t fragment_base(Thread& t, const VarNode* frag, int64_t f);
  int64_t memory_index(Thread& t, const EmuBuffer* b, const std::vector<int64_t>& v, size_t at, int64_t r, int64_t c);

  std::string kernel_;
  Stmt body_;
  GpuLaunchConfig launch_;
  int64_t grid_[3] = {1, 1, 1}, block_[3] = {0, 0, 0}, block_linear_ = 0, T_ = 1;
  uint64_t epoch_ = 0;  // the barrier interval: new at every block start and barrier
  std::vector<std::unique_ptr<Thread>> threads_;
  std::unordered_map<const AllocateNode*, std::unique_ptr<EmuBuffer>> shared_;
  std::unordered_set<const StmtNode*> sync_;
  std::unordered_map<int64_t, std::vector<std::vector<int64_t>>> wmma_log_;  // by warp: its operations in order
  int64_t* executed_;
  int64_t max_statements_;
};

}  // namespace te::cuda_emu
