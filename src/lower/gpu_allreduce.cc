// src/lower/gpu_allreduce.cc — see gpu_allreduce.h.
#include "lower/gpu_allreduce.h"

#include <algorithm>

#include "lower/stage_name.h"
#include "te/ir_functor.h"

namespace te {

const AttrStmtNode* allreduce_part(const AttrStmtNode* allreduce, const char* key) {
  std::vector<Stmt> parts;
  if (const auto* seq = allreduce->body.as<SeqNode>()) parts = seq->seq;
  else parts.push_back(allreduce->body);
  for (const Stmt& part : parts)
    if (const auto* attr = part.as<AttrStmtNode>(); attr && attr->key == key) return attr;
  return nullptr;
}

GpuAllreduce decode_gpu_allreduce(const AttrStmtNode* op, const char* who) {
  TE_ICHECK(op && op->key == kGpuAllreduceAttr, who, ": not a gpu_allreduce statement");
  GpuAllreduce r;
  const AttrStmtNode* buffers = allreduce_part(op, kGpuAllreduceBuffers);
  r.partial = allreduce_part(op, kGpuAllreducePartial);
  r.combine = allreduce_part(op, kGpuAllreduceCombine);
  r.result = allreduce_part(op, kGpuAllreduceResult);
  const int64_t* mask = as_const_int(op->value);
  TE_ICHECK(buffers && r.combine && mask && *mask > 0 && *mask < 8, who, ": malformed gpu_allreduce");
  r.mask = int(*mask);
  std::vector<Stmt> copies;
  if (const auto* seq = buffers->body.as<SeqNode>()) copies = seq->seq;
  else copies.push_back(buffers->body);
  for (const Stmt& c : copies) {
    const auto* st = c.as<StoreNode>();
    const auto* load = st ? st->value.as<LoadNode>() : nullptr;
    TE_ICHECK(load != nullptr, who, ": malformed gpu_allreduce buffers");
    r.values.push_back({load->buffer, st->buffer, load->dtype});
  }
  return r;
}

GpuAllreducePlan plan_gpu_allreduce(int mask, const GpuLaunchConfig& launch) {
  GpuAllreducePlan p;
  for (int d = 0; d < 3; ++d)
    if ((mask >> d) & 1) p.group *= launch.block[d];
  const int64_t T = launch.threads_per_block();
  p.groups = T / p.group;
  if (p.group == 1) return p;
  bool consecutive = true;  // every group is a run of consecutive linear thread ids
  for (int r = 0; r < 3; ++r)
    for (int n = 0; n < r; ++n)
      if (((mask >> r) & 1) && !((mask >> n) & 1) && launch.block[r] > 1 && launch.block[n] > 1) consecutive = false;
  if (!consecutive) {
    p.way = GpuAllreduceWay::kSharedTree;
    p.shared_slots = T;
  } else if (32 % p.group == 0) {
    p.way = GpuAllreduceWay::kButterfly;
  } else {
    p.way = GpuAllreduceWay::kShuffleDown;
    const int64_t G = p.group;
    for (int64_t g = 0; g < p.groups; ++g) p.pieces = std::max(p.pieces, ((G * g + G - 1) >> 5) - ((G * g) >> 5) + 1);
    if (p.pieces > 1) p.shared_slots = p.groups * p.pieces;
  }
  return p;
}

std::vector<GpuAllreduceSharedArray> gpu_allreduce_shared_arrays(const Stmt& kernel_body, const GpuLaunchConfig& launch) {
  std::vector<GpuAllreduceSharedArray> arrays;
  post_order_visit(
      kernel_body, [](const Expr&) {},
      [&](const Stmt& s) {
        const auto* op = s.as<AttrStmtNode>();
        if (!op || op->key != kGpuAllreduceAttr) return;
        GpuAllreduce r = decode_gpu_allreduce(op, "gpu_allreduce_shared_arrays");
        const int64_t slots = plan_gpu_allreduce(r.mask, launch).shared_slots;
        if (slots == 0) return;
        std::string stage = stage_of(r.result ? r.result->body : op->body);
        for (const GpuAllreduceValue& v : r.values) arrays.push_back({stage, v.dtype, slots});
      });
  return arrays;
}

}  // namespace te
