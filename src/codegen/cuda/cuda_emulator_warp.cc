// The CUDA emulator's warp-wide operations (see cuda_emulator_run.h): cross-thread reductions
// as print_cuda_allreduce prints them, and tensor-core (wmma) calls, lane by lane.
#include "codegen/cuda/cuda_emulator_run.h"
#include "lower/gpu_allreduce.h"

namespace te::cuda_emu {

// A cross-thread reduction, step by step as print_cuda_allreduce (cuda_allreduce.cc) prints it (the
// comment there names the three ways A, B, C). Shuffles read every source before any thread
// writes (a warp shuffle is one instruction); a source lane that does not exist is poisoned.
void KernelRun::allreduce(const AttrStmtNode* op) {
  const GpuAllreduce ar = decode_gpu_allreduce(op, "cuda emulator");
  struct Pair {
    const VarNode* red;
    const VarNode* other;
    DataType t;
    size_t bytes;
  };
  std::vector<Pair> pairs;
  for (const GpuAllreduceValue& v : ar.values) pairs.push_back({v.red.get(), v.other.get(), v.dtype, size_t(v.dtype.bytes())});
  const Stmt& combine = ar.combine->body;
  if (ar.partial) exec_block(ar.partial->body);
  const int mask = ar.mask;
  const GpuAllreducePlan plan = plan_gpu_allreduce(mask, launch_);
  const int64_t G = plan.group;

  auto elem = [&](Thread& t, const VarNode* v) { return buffer(t, v)->data; };
  auto snapshot = [&](const Pair& p) {
    std::vector<unsigned char> s(size_t(T_) * p.bytes);
    for (auto& t : threads_) std::memcpy(&s[size_t(t->tid) * p.bytes], elem(*t, p.red), p.bytes);
    return s;
  };
  // dst of thread t = source thread src's snapshot value; a lane that does not exist (a partial
  // warp's missing lanes are outside the shuffle's mask) gives an undefined value: poison.
  auto take = [&](Thread& t, const VarNode* dst, const Pair& p, const std::vector<unsigned char>& snap, int64_t src) {
    if (src < 0 || src >= T_) poison(elem(t, dst), p.t, 1);
    else std::memcpy(elem(t, dst), &snap[size_t(src) * p.bytes], p.bytes);
  };
  auto shuffle = [&](const std::function<int64_t(const Thread&)>& source) {
    for (const Pair& p : pairs) {
      std::vector<unsigned char> snap = snapshot(p);
      for (auto& t : threads_) take(*t, p.other, p, snap, source(*t));
    }
  };
  // Shared slots of the reduction itself (not user buffers, so not race-tracked: the checks
  // below verify the slot protocol instead).
  struct Slots {
    std::vector<unsigned char> data;
    std::vector<char> written;
  };
  auto make_slots = [&](int64_t n) {
    std::vector<Slots> s(pairs.size());
    for (size_t v = 0; v < pairs.size(); ++v) {
      s[v].data.resize(size_t(n) * pairs[v].bytes);
      poison(s[v].data.data(), pairs[v].t, n);
      s[v].written.assign(size_t(n), 0);
    }
    return s;
  };
  auto slot_index = [&](const Thread& t, int64_t i, int64_t n) {
    if (i < 0 || i >= n)
      fail(where(), "cross-thread reduction: ", who(gid(t)), " uses shared slot ", i, " of ", n, " (a codegen bug)");
    return size_t(i);
  };

  if (plan.way != GpuAllreduceWay::kSingle) {
    if (plan.way == GpuAllreduceWay::kButterfly) {
      for (int64_t off = G / 2; off >= 1; off /= 2) {
        shuffle([&](const Thread& t) { return t.tid ^ off; });  // __shfl_xor_sync, width G
        for (auto& t : threads_) exec_thread(*t, combine);
      }
    } else if (plan.way == GpuAllreduceWay::kShuffleDown) {
      for (int64_t off = 1; off < std::min<int64_t>(G, 32); off *= 2) {
        // __shfl_down_sync, width 32: a source past the warp's end returns the thread's own value.
        shuffle([&](const Thread& t) { return (t.tid & 31) + off < 32 ? t.tid + off : t.tid; });
        for (auto& t : threads_)
          if ((t->tid & 31) + off < 32 && linear_thread(*t, mask) + off < G) exec_thread(*t, combine);
      }
      const int64_t pieces = plan.pieces;
      auto first = [&](const Thread& t) { return t.tid - linear_thread(t, mask); };
      if (pieces == 1) {
        for (const Pair& p : pairs) {
          std::vector<unsigned char> snap = snapshot(p);
          for (auto& t : threads_) take(*t, p.red, p, snap, (t->tid & ~int64_t(31)) + (first(*t) & 31));
        }
      } else {
        const int64_t n = plan.shared_slots;  // NG * pieces
        std::vector<Slots> slots = make_slots(n);
        for (auto& t : threads_) {
          const int64_t red = linear_thread(*t, mask), grp = linear_thread(*t, 7 & ~mask);
          if ((t->tid & 31) != 0 && red != 0) continue;
          size_t i = slot_index(*t, grp * pieces + ((t->tid >> 5) - (first(*t) >> 5)), n);
          for (size_t v = 0; v < pairs.size(); ++v) {
            if (slots[v].written[i])
              fail(where(), "cross-thread reduction: shared slot ", i, " written twice before the barrier (a codegen bug)");
            slots[v].written[i] = 1;
            std::memcpy(&slots[v].data[i * pairs[v].bytes], elem(*t, pairs[v].red), pairs[v].bytes);
          }
        }
        ++epoch_;  // __syncthreads()
        for (auto& t : threads_) {
          const int64_t grp = linear_thread(*t, 7 & ~mask), f = first(*t);
          for (size_t v = 0; v < pairs.size(); ++v) {
            size_t i = slot_index(*t, grp * pieces, n);
            std::memcpy(elem(*t, pairs[v].red), &slots[v].data[i * pairs[v].bytes], pairs[v].bytes);
          }
          for (int64_t piece = 1; piece < ((f + G - 1) >> 5) - (f >> 5) + 1; ++piece) {
            for (size_t v = 0; v < pairs.size(); ++v) {
              size_t i = slot_index(*t, grp * pieces + piece, n);
              std::memcpy(elem(*t, pairs[v].other), &slots[v].data[i * pairs[v].bytes], pairs[v].bytes);
            }
            exec_thread(*t, combine);
          }
        }
        ++epoch_;
      }
    } else {  // kSharedTree
      const int64_t n = plan.shared_slots;  // one per thread
      std::vector<Slots> slots = make_slots(n);
      auto base = [&](const Thread& t) { return linear_thread(t, 7 & ~mask) * G; };
      for (auto& t : threads_) {
        size_t i = slot_index(*t, base(*t) + linear_thread(*t, mask), n);
        for (size_t v = 0; v < pairs.size(); ++v) {
          if (slots[v].written[i])
            fail(where(), "cross-thread reduction: shared slot ", i, " written twice before the barrier (a codegen bug)");
          slots[v].written[i] = 1;
          std::memcpy(&slots[v].data[i * pairs[v].bytes], elem(*t, pairs[v].red), pairs[v].bytes);
        }
      }
      ++epoch_;
      int64_t span = 1;
      while (span < G) span *= 2;
      for (int64_t step = span / 2; step >= 1; step /= 2) {
        std::vector<Thread*> active;
        std::vector<char> read(size_t(n), 0), wrote(size_t(n), 0);
        for (auto& t : threads_) {
          const int64_t red = linear_thread(*t, mask);
          if (!(red < step && red + step < G)) continue;
          active.push_back(t.get());
          size_t i = slot_index(*t, base(*t) + red + step, n);
          read[i] = 1;
          for (size_t v = 0; v < pairs.size(); ++v)
            std::memcpy(elem(*t, pairs[v].other), &slots[v].data[i * pairs[v].bytes], pairs[v].bytes);
        }
        for (Thread* t : active) {
          exec_thread(*t, combine);
          size_t i = slot_index(*t, base(*t) + linear_thread(*t, mask), n);
          if (read[i])
            fail(where(), "cross-thread reduction: shared slot ", i, " read and written in one step (a codegen bug)");
          wrote[i] = 1;
          for (size_t v = 0; v < pairs.size(); ++v)
            std::memcpy(&slots[v].data[i * pairs[v].bytes], elem(*t, pairs[v].red), pairs[v].bytes);
        }
        ++epoch_;
      }
      for (auto& t : threads_) {
        size_t i = slot_index(*t, base(*t), n);
        for (size_t v = 0; v < pairs.size(); ++v)
          std::memcpy(elem(*t, pairs[v].red), &slots[v].data[i * pairs[v].bytes], pairs[v].bytes);
      }
      ++epoch_;
    }
  }
  if (ar.result) exec_block(ar.result->body);
}

void KernelRun::wmma(Thread& t, const CallNode* op) {
  constexpr int64_t kWarp = 32, kTile = 16, kFragment = kTile * kTile;
  if (T_ % kWarp != 0)
    fail(where(), intrinsic_name(op->op), ": the block has ", T_, " threads, not whole warps of 32; a tensor-core ",
         "operation runs on all 32 lanes of a warp (bind threadIdx.x to 32 lanes, e.g. in the shared-memory copies)");
  // Operands: buffers by identity, the rest evaluated.
  std::vector<int64_t> v{int64_t(op->op)};
  for (const Expr& a : op->args) {
    if (const auto* var = a.as<VarNode>(); var && a.dtype().is_handle()) {
      v.push_back(int64_t(reinterpret_cast<intptr_t>(var)));
    } else if (a.dtype().is_float()) {  // a fill value: its bits, compared only
      double x = t.in.eval(a).as_float();
      int64_t bits = 0;
      std::memcpy(&bits, &x, sizeof(bits));
      v.push_back(bits);
    } else {
      v.push_back(t.in.eval(a).as_int());
    }
  }
  std::vector<std::vector<int64_t>>& log = wmma_log_[t.tid / kWarp];
  if (t.wmma_ops == log.size()) log.push_back(v);
  else if (log[t.wmma_ops] != v)
    fail(where(), intrinsic_name(op->op), " runs with other operands in ", who(gid(t)),
         " than in the first lane of its warp to run it (warp ", t.tid / kWarp, ", operation ", t.wmma_ops + 1,
         "); all 32 lanes of a warp must run each wmma operation with the same operands (do not use threadIdx.x in ",
         "a tensorized stage)");
  ++t.wmma_ops;

  if (op->op == Intrinsic::kWmmaFill) {
    EmuBuffer* f = buffer(t, op->args[0].as<VarNode>());
    int64_t base = fragment_base(t, op->args[0].as<VarNode>(), v[2]);
    Value fill = t.in.eval(op->args[2]);
    unsigned char bytes[8];
    encode(fill, 0, f->dtype, bytes);
    for (int64_t e = 0; e < kFragment; ++e) std::memcpy(f->data + (base + e) * f->dtype.bytes(), bytes, 4);
  } else if (op->op == Intrinsic::kWmmaLoad) {
    EmuBuffer* f = buffer(t, op->args[0].as<VarNode>());
    EmuBuffer* src = buffer(t, op->args[2].as<VarNode>());
    int64_t base = fragment_base(t, op->args[0].as<VarNode>(), v[2]);
    for (int64_t r = 0; r < kTile; ++r)
      for (int64_t c = 0; c < kTile; ++c) {
        int64_t e = memory_index(t, src, v, 3, r, c);
        on_read(t, op->args[2].as<VarNode>(), e);
        detail::store_half(f->data, base + r * kTile + c, element(src, e));
      }
  } else if (op->op == Intrinsic::kWmmaMma) {
    auto base_of = [&](size_t arg) { return fragment_base(t, op->args[arg].as<VarNode>(), v[arg + 2]); };
    const int64_t d = base_of(0), a = base_of(2), b = base_of(4), c = base_of(6);
    EmuBuffer *fd = buffer(t, op->args[0].as<VarNode>()), *fa = buffer(t, op->args[2].as<VarNode>());
    EmuBuffer *fb = buffer(t, op->args[4].as<VarNode>()), *fc = buffer(t, op->args[6].as<VarNode>());
    float out[kFragment];
    for (int64_t i = 0; i < kTile; ++i)
      for (int64_t j = 0; j < kTile; ++j) {
        float acc = float(element(fc, c + i * kTile + j));
        for (int64_t k = 0; k < kTile; ++k)
          acc += float(element(fa, a + i * kTile + k)) * float(element(fb, b + k * kTile + j));
        out[i * kTile + j] = acc;
      }
    std::memcpy(fd->data + d * 4, out, sizeof(out));
  } else {  // kWmmaStore
    EmuBuffer* dst = buffer(t, op->args[0].as<VarNode>());
    EmuBuffer* f = buffer(t, op->args[4].as<VarNode>());
    int64_t base = fragment_base(t, op->args[4].as<VarNode>(), v[6]);
    for (int64_t r = 0; r < kTile; ++r)
      for (int64_t c = 0; c < kTile; ++c) {
        unsigned char bytes[8];
        encode(Value::from_float(DataType::float32(), element(f, base + r * kTile + c)), 0, dst->dtype, bytes);
        write(t, dst, memory_index(t, dst, v, 1, r, c), bytes);
      }
  }
}

// The first element of fragment f of frag (fragments are 256 consecutive elements).
int64_t KernelRun::fragment_base(Thread& t, const VarNode* frag, int64_t f) {
  const EmuBuffer* b = buffer(t, frag);
  if (f < 0 || (f + 1) * 256 > b->numel)
    fail(where(), "fragment ", f, " of ", b->name, " is out of bounds: it holds ", b->numel / 256, " fragments, in ",
         who(gid(t)));
  return f * 256;
}

// Element (r, c) of the memory operand v[at] (its offset, ld, col_major follow it); te::Error
// for the alignment wmma needs (32-byte first element, 16-byte leading dimension).
int64_t KernelRun::memory_index(Thread& t, const EmuBuffer* b, const std::vector<int64_t>& v, size_t at, int64_t r,
                                int64_t c) {
  const int64_t offset = v[at + 1], ld = v[at + 2], bytes = b->dtype.bytes();
  if (r == 0 && c == 0 && ((offset * bytes) % 32 != 0 || (ld * bytes) % 16 != 0))
    fail(where(), "wmma access of ", b->name, " at element ", offset, " with leading dimension ", ld,
         ": the first element must be 32-byte aligned and the leading dimension a multiple of 16 bytes (", who(gid(t)),
         ")");
  int64_t e = v[at + 3] ? offset + r + c * ld : offset + r * ld + c;
  check_bounds(t, b, e, "wmma access");
  return e;
}

void KernelRun::check_wmma_warps() const {
  for (const auto& th : threads_) {
    auto it = wmma_log_.find(th->tid / 32);
    size_t expected = it == wmma_log_.end() ? 0 : it->second.size();
    if (th->wmma_ops != expected)
      fail(where(), who(gid(*th)), " ran ", th->wmma_ops, " wmma operations but another lane of its warp ran ",
           expected, "; a tensor-core operation in divergent control flow (every lane of a warp must run it)");
  }
}

}  // namespace te::cuda_emu
