// te/schedule.h — how an operator is computed. A Schedule holds one Stage per operation;
// every primitive edits the stage's relation graph of IterVars (split/fuse are relations
// that lowering interprets: domains pass down, indices pass up) and appends a replayable
// Step. Replaying a schedule's steps on a fresh schedule gives the same lowered IR.
#pragma once

#include <array>
#include <unordered_map>
#include <utility>

#include "te/operation.h"

namespace te {

class ScheduleNode;
class StageNode;
class Schedule;

// parent = outer * factor + inner (split); fused = outer * extent(inner) + inner (fuse).
struct IterVarRelation {
  enum Kind : uint8_t { kSplit, kFuse } kind;
  IterVar parent, outer, inner;  // split: parent → (outer, inner)
  IterVar fused;                 // fuse: (outer, inner) → fused
  int64_t factor = 0;            // split by factor (0 when split by nparts)
  int64_t nparts = 0;            // split by nparts (0 when split by factor)
};

// Per-IterVar annotations set by vectorize/unroll/parallel/bind/pragma.
struct IterVarAttr {
  ForKind for_kind = ForKind::kSerial;
  IterVar bound_thread;  // set by bind()
  std::vector<std::pair<std::string, Expr>> pragmas;
  bool tensorize_wmma = false;  // set by tensorize(iv, "wmma")
  // Set by prefetch(): each iteration of the loop first prefetches what the loop's body reads
  // of the tensor `offset` iterations later.
  struct Prefetch {
    const StageNode* tensor_stage;  // the stage computing the tensor (placeholders have one too)
    int value_index;
    int64_t offset;
    // Set when the prefetch is spread over the iterations of a loop inside (the "spread" leaf).
    const IterVarNode* spread = nullptr;
  };
  std::vector<Prefetch> prefetches;
  // Set by rfactor on the axis that combines the factored lanes: that reduction axis may be
  // vectorized (the lanes are then combined by a shuffle tree: rfactor already reassociated).
  bool combines_lanes = false;
};

enum class AttachType : uint8_t {
  kRoot,    // own loop nest at the top level (default; compute_root)
  kInline,  // substituted into its consumers (compute_inline)
  kScope,   // nested inside attach_stage's loop attach_ivar (compute_at)
};

// storage_align: dimension dim of the stage's buffer gets a stride with stride % factor == offset
// (rows padded, e.g. to keep shared-memory columns off one bank).
struct StorageAlign {
  int dim = 0;
  int64_t factor = 1, offset = 0;
};

class Stage;
class StageNode : public Node {
 public:
  Operation op;         // current op (cache_write / rfactor may replace it)
  Operation origin_op;  // the op the user created this stage for
  std::vector<IterVar> all_iter_vars;   // root axes + reduce axes + every derived axis
  std::vector<IterVar> leaf_iter_vars;  // the loop nest order, outermost first
  std::vector<IterVarRelation> relations;
  std::unordered_map<const IterVarNode*, IterVarAttr> iter_var_attrs;
  AttachType attach_type = AttachType::kRoot;
  IterVar attach_ivar;
  StageNode* attach_stage = nullptr;  // non-owning: stages live as long as their schedule
  std::string scope = "global";       // storage scope of the op's outputs
  std::vector<StorageAlign> storage_aligns;  // at most one per dimension
  bool double_buffer = false;                 // set by double_buffer() / pipeline() (a shared stage, cuda)
  int64_t pipeline_stages = 2;                // its buffers: 2 by double_buffer(), more by pipeline()
  bool is_output = false;
  ScheduleNode* schedule = nullptr;   // non-owning back pointer, for recording steps
};

// A handle to one operation's schedule. Every method throws te::Error naming the stage and
// the axis when the request is illegal (axis of another stage, not a leaf, bad factor...).
class Stage : public Ref<StageNode> {
 public:
  using Ref<StageNode>::Ref;
  Stage() = default;
  const std::string& name() const;

  // parent → (outer, inner). factor >= 1; need not divide the extent (tails are guarded).
  std::pair<IterVar, IterVar> split(const IterVar& parent, int64_t factor);
  std::pair<IterVar, IterVar> split_nparts(const IterVar& parent, int64_t nparts);
  // Returns {x_outer, y_outer, x_inner, y_inner} and orders them that way.
  std::array<IterVar, 4> tile(const IterVar& x, const IterVar& y, int64_t x_factor, int64_t y_factor);
  // outer and inner must be adjacent leaves, outer immediately before inner.
  IterVar fuse(const IterVar& outer, const IterVar& inner);
  // Reorders the given leaves among the positions they occupy.
  void reorder(const std::vector<IterVar>& order);
  void vectorize(const IterVar& iv);
  void unroll(const IterVar& iv);
  void parallel(const IterVar& iv);
  void bind(const IterVar& iv, const IterVar& thread);
  // Wraps the loop of iv in AttrStmt("pragma_" + key, value): a hint. The one a code generator
  // reads: "nontemporal" (llvm on x86, kNontemporalPragma in ir.h) — streaming stores to the
  // kernel's argument buffers inside the loop.
  void pragma(const IterVar& iv, const std::string& key, Expr value = Expr(1));
  // At the start of each iteration of iv's loop, prefetches into the cache the elements of
  // `tensor` that the loop's body reads `offset` (>= 1) iterations later (TVM's prefetch): for
  // loads whose latency the hardware prefetcher does not hide, such as the rows of a pooling
  // window when the next output row starts. tensor must be read by the stage (directly or
  // through inlined stages) and not computed inside the loop; iv not vectorized. A dimension
  // whose indices cannot be bounded by the outer loops is prefetched whole. The LLVM backend
  // emits llvm.prefetch (every cache line of the region, indices clamped inside the buffer);
  // other targets drop it.
  // With `spread` (a leaf inside iv, not vectorized), the region is not fetched at once at the
  // start of iv's iteration but split into rows (its leading dimensions) spread evenly over the
  // iterations of the loops from just inside iv down to spread: each iteration of spread's loop
  // first prefetches its share. For a block that the next iteration packs or reads (the next k
  // block of a GEMM's B while the current block's row tiles are computed, as oneDNN's kernels do):
  // the loads overlap the arithmetic instead of stalling the next iteration.
  void prefetch(const Tensor& tensor, const IterVar& iv, int64_t offset, const IterVar& spread = IterVar());
  // Pads the stride of the buffer dimension of `axis` (an axis of the stage's op) so that
  // stride % factor == offset (TVM's storage_align); factor >= 1, 0 <= offset < factor. Applies to
  // buffers lowering allocates (cache stages, intermediates), not to function arguments.
  void storage_align(const IterVar& axis, int64_t factor, int64_t offset);
  // Double-buffers a shared-memory stage (TVM's double_buffer; target cuda): the stage must be
  // computed at a serial loop of its reader (the GEMM's loop over k blocks). Lowering
  // (src/lower/inject_double_buffer.h) gives it two buffers and, in each iteration, loads the
  // next iteration's elements from global memory into registers before the readers run and
  // stores them into the other buffer after, so the loads' latency overlaps the arithmetic
  // and one barrier per iteration remains. On sm_80 and newer the copy is asynchronous
  // (cp.async, straight into the other buffer, no registers).
  void double_buffer();
  // A deeper double_buffer (Triton's num_stages, CUTLASS's multistage mainloop): `stages`
  // buffers (2..8) of the stage, and on sm_80 and newer the copies of the next stages - 1
  // blocks in flight during the current block's arithmetic (cp.async); below sm_80 it runs as
  // double_buffer (two buffers staged in registers). pipeline(2) is double_buffer().
  void pipeline(int64_t stages);
  // Replaces the loop nest from iv inward with one tensor-core operation (TVM's tensorize;
  // target cuda, sm_70 and newer). The one intrinsic is "wmma" (16 x 16 x 16 tiles, float16
  // inputs, float32 accumulation), which covers four nests told apart by the storage scopes
  // of the stages involved (see src/lower/tensorize_wmma.h): a 16 x 16 copy into a
  // "wmma.matrix_a" / "wmma.matrix_b" stage (load), the 16 x 16 init of a "wmma.accumulator"
  // reduction (fill), its 16 x 16 x 16 multiply-accumulate (mma), and a 16 x 16 copy out of
  // the accumulator (store). The stages in wmma scopes must not use threadIdx.x: each warp's
  // 32 lanes run every operation together.
  void tensorize(const IterVar& iv, const std::string& intrinsic);
  // Computes this stage inside parent's loop `scope` (parent must read it). Every other stage
  // reading it must be computed inside parent too, at or below scope (checked by bound
  // inference, te::Error otherwise).
  void compute_at(const Stage& parent, const IterVar& scope);
  void compute_inline();
  void compute_root();
};

// One recorded primitive. Axes are named by their position in the stage's leaf list at the
// time of the step; stages by their index in Schedule::stages() at that time.
struct Step {
  std::string primitive;         // "split", "split_nparts", "fuse", "reorder", "vectorize", ...
  int stage = -1;
  std::vector<int> iters;        // leaf positions in `stage`
  std::vector<int64_t> ints;     // factors, nparts, factor_axis
  std::vector<std::string> strs; // pragma key, scope, thread tag
  int target_stage = -1;         // compute_at's parent stage
  int target_iter = -1;          // compute_at's scope axis (leaf position in target_stage)
  std::vector<int> readers;      // cache_read's reader stages
};

class ScheduleNode : public Node {
 public:
  std::vector<Operation> outputs;
  std::vector<Stage> stages;  // producers before consumers
  std::unordered_map<const OperationNode*, Stage> stage_map;
  std::vector<Step> steps;
};

class Schedule : public Ref<ScheduleNode> {
 public:
  using Ref<ScheduleNode>::Ref;
  Schedule() = default;
  Stage operator[](const Operation& op) const;  // te::Error when op is not in the schedule
  Stage operator[](const Tensor& t) const { return (*this)[t.op()]; }
  const std::vector<Stage>& stages() const { return get()->stages; }
  const std::vector<Step>& steps() const { return get()->steps; }

  // A new stage copying `tensor` into `scope`, read by `readers` instead of tensor.
  Tensor cache_read(const Tensor& tensor, const std::string& scope,
                    const std::vector<Operation>& readers);
  // The stage of tensor now writes into a cache stage in `scope`, and the original op copies
  // the cache out. Returns the cache tensor.
  Tensor cache_write(const Tensor& tensor, const std::string& scope);
  // Splits the reduction over `axis` (a leaf reduce axis) into a partial-result stage with
  // `axis` as a new spatial dimension at position factor_axis; returns the partial tensor.
  Tensor rfactor(const Tensor& tensor, const IterVar& axis, int factor_axis = 0);

  // The steps as JSON (a list of objects) and as the Python that would replay them.
  std::string steps_json() const;
  std::string steps_python() const;
  // Applies steps (as from steps() or parsed from JSON) to a fresh schedule of outputs.
  static Schedule replay(const std::vector<Operation>& outputs, const std::vector<Step>& steps);
  static std::vector<Step> steps_from_json(const std::string& json);  // te::Error if malformed
};

Schedule create_schedule(const std::vector<Operation>& outputs);

// Range of every IterVar (root, reduce and derived) of every stage, for lowering.
using BoundMap = std::unordered_map<const IterVarNode*, Range>;
BoundMap infer_bound(const Schedule& sch);
// The loop nest of the whole schedule (TensorStore/Realize/For/IfThenElse), before
// storage flattening.
Stmt schedule_ops(const Schedule& sch, const BoundMap& bounds);

}  // namespace te
