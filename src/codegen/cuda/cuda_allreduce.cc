// src/codegen/cuda/cuda_allreduce.cc — the CUDA C of a cross-thread reduction (te/ir.h
// gpu_allreduce): warp shuffles and shared slots, by the plan of src/lower/gpu_allreduce.h.
// The CUDA emulator (cuda_emulator.cc, KernelRun::allreduce) replays exactly this protocol.
#include "codegen/cuda/cuda_allreduce.h"

#include <algorithm>

namespace te {
namespace {

std::string pad(int indent) { return std::string(2 * indent, ' '); }

// Threads of the block, linearized over the threadIdx dimensions in dims (bit d: dimension
// d), x fastest; dimensions the launch leaves at 1 contribute nothing.
std::string linear_thread(int dims, const GpuLaunchConfig& launch) {
  std::string s;
  int64_t stride = 1;
  for (int d = 0; d < 3; ++d) {
    if (!((dims >> d) & 1) || launch.block[d] == 1) continue;
    std::string term = std::string("(int)threadIdx.") + "xyz"[d];
    if (stride != 1) term += " * " + std::to_string(stride);
    s += (s.empty() ? "" : " + ") + term;
    stride *= launch.block[d];
  }
  return s.empty() ? "0" : s;
}

// A warp shuffle of value (dtype t); types without a shuffle overload go through int.
std::string shuffle(const char* fn, DataType t, const std::string& mask, const std::string& value,
                    const std::string& lane_arg, int64_t width) {
  std::string w = width == 32 ? "" : ", " + std::to_string(width);
  bool native = t.is_float() || ((t.is_int() || t.is_uint()) && (t.bits == 32 || t.bits == 64));
  if (native) return std::string(fn) + "(" + mask + ", " + value + ", " + lane_arg + w + ")";
  return "((" + cuda_c_type(t) + ")" + fn + "(" + mask + ", (int)(" + value + "), " + lane_arg + w + "))";
}

}  // namespace

// A kGpuAllreduceAttr statement (te/ir.h): every thread computes its partial into red[v][0];
// the threads that differ only in the reduced threadIdx dimensions form a group of G; each
// group's combined value ends in red[v][0] of all its threads; then the result stores.
// Every thread of the block runs this (infer_gpu_launch checked the control flow around it).
// Three ways, by how groups lie in the block's linear thread order (x fastest):
//  A. consecutive and G divides 32: a butterfly (__shfl_xor_sync, width G) in each aligned
//     G-lane segment; every lane ends with the total.
//  B. consecutive, any G: shuffles down with offsets 1, 2, 4, ... combining only a source in
//     the same warp and group, so the first thread of each group's piece of a warp holds that
//     piece; pieces meet in shared memory (or, when no group spans two warps, one shuffle
//     from the group's first lane broadcasts).
//  C. interleaved (a reduced dimension inside a data-parallel one): a tree in shared memory.
void print_cuda_allreduce(const AttrStmtNode* op, const GpuLaunchConfig& launch, CudaStmtPrinter& printer, int indent,
                          std::ostringstream& out) {
  const GpuAllreduce ar = decode_gpu_allreduce(op, "codegen cuda");
  struct Pair {
    std::string red, other;
    DataType t;
  };
  std::vector<Pair> pairs;
  for (const GpuAllreduceValue& v : ar.values) pairs.push_back({printer.buffer_name(v.red) + "[0]", printer.buffer_name(v.other) + "[0]", v.dtype});
  const int mask = ar.mask;
  const GpuAllreducePlan plan = plan_gpu_allreduce(mask, launch);
  const int64_t G = plan.group, NG = plan.groups, T = launch.threads_per_block();
  std::string dims;
  for (int d = 0; d < 3; ++d)
    if ((mask >> d) & 1) dims += std::string(dims.empty() ? "" : ", ") + "threadIdx." + "xyz"[d];
  const std::string p0 = pad(indent), p1 = pad(indent + 1), p2 = pad(indent + 2);
  out << p0 << "{  // cross-thread reduction over " << dims << ": " << NG << " group(s) of " << G << " threads\n";
  if (ar.partial) printer.print_stmt(ar.partial->body, indent + 1, out);
  auto print_combine = [&](int ind) { printer.print_stmt(ar.combine->body, ind, out); };
  if (plan.way != GpuAllreduceWay::kSingle) {
    std::string tid = printer.fresh("te_tid"), red = printer.fresh("te_red"), grp = printer.fresh("te_grp");
    out << p1 << "const int " << tid << " = " << linear_thread(7, launch) << ";\n";
    out << p1 << "const int " << red << " = " << linear_thread(mask, launch) << ";\n";
    out << p1 << "const int " << grp << " = " << linear_thread(7 & ~mask, launch) << ";\n";
    out << p1 << "(void)" << tid << "; (void)" << grp << ";\n";
    // The lanes of this warp that exist (the last warp of the block may be partial).
    std::string wmask = "0xffffffffu";
    if (T % 32 != 0) {
      wmask = printer.fresh("te_warp_mask");
      out << p1 << "const unsigned " << wmask << " = " << T << " - (" << tid << " & ~31) >= 32 ? 0xffffffffu : ((1u << ("
          << T << " - (" << tid << " & ~31))) - 1u);\n";
    }
    if (plan.way == GpuAllreduceWay::kButterfly) {
      for (int64_t off = G / 2; off >= 1; off /= 2) {
        for (const Pair& p : pairs)
          out << p1 << p.other << " = " << shuffle("__shfl_xor_sync", p.t, wmask, p.red, std::to_string(off), G) << ";\n";
        print_combine(indent + 1);
      }
    } else if (plan.way == GpuAllreduceWay::kShuffleDown) {
      std::string lane = printer.fresh("te_lane");
      out << p1 << "const int " << lane << " = " << tid << " & 31;\n";
      for (int64_t off = 1; off < std::min<int64_t>(G, 32); off *= 2) {
        for (const Pair& p : pairs)
          out << p1 << p.other << " = " << shuffle("__shfl_down_sync", p.t, wmask, p.red, std::to_string(off), 32) << ";\n";
        out << p1 << "if (" << lane << " + " << off << " < 32 && " << red << " + " << off << " < " << G << ") {\n";
        print_combine(indent + 2);
        out << p1 << "}\n";
      }
      const int64_t pieces = plan.pieces;  // most warps one group touches
      std::string first = "(" + tid + " - " + red + ")";  // the group's first thread
      if (pieces == 1) {
        for (const Pair& p : pairs)
          out << p1 << p.red << " = " << shuffle("__shfl_sync", p.t, wmask, p.red, first + " & 31", 32) << ";\n";
      } else {
        std::vector<std::string> smem;
        for (const Pair& p : pairs) {
          smem.push_back(printer.fresh("te_red_shared"));
          out << p1 << "__shared__ " << cuda_c_type(p.t) << " " << smem.back() << "[" << plan.shared_slots << "];\n";
        }
        std::string slot = grp + " * " + std::to_string(pieces);
        out << p1 << "if (" << lane << " == 0 || " << red << " == 0) {\n";
        for (size_t v = 0; v < pairs.size(); ++v)
          out << p2 << smem[v] << "[" << slot << " + ((" << tid << " >> 5) - (" << first << " >> 5))] = " << pairs[v].red << ";\n";
        out << p1 << "}\n" << p1 << "__syncthreads();\n";
        for (size_t v = 0; v < pairs.size(); ++v) out << p1 << pairs[v].red << " = " << smem[v] << "[" << slot << "];\n";
        std::string piece = printer.fresh("te_piece");
        out << p1 << "for (int " << piece << " = 1; " << piece << " < ((" << first << " + " << G - 1 << ") >> 5) - ("
            << first << " >> 5) + 1; ++" << piece << ") {\n";
        for (size_t v = 0; v < pairs.size(); ++v)
          out << p2 << pairs[v].other << " = " << smem[v] << "[" << slot << " + " << piece << "];\n";
        print_combine(indent + 2);
        out << p1 << "}\n" << p1 << "__syncthreads();  // before the shared slots are reused\n";
      }
    } else {  // kSharedTree
      std::vector<std::string> smem;
      for (const Pair& p : pairs) {
        smem.push_back(printer.fresh("te_red_shared"));
        out << p1 << "__shared__ " << cuda_c_type(p.t) << " " << smem.back() << "[" << plan.shared_slots << "];\n";
      }
      std::string base = grp + " * " + std::to_string(G);
      for (size_t v = 0; v < pairs.size(); ++v) out << p1 << smem[v] << "[" << base << " + " << red << "] = " << pairs[v].red << ";\n";
      out << p1 << "__syncthreads();\n";
      int64_t span = 1;
      while (span < G) span *= 2;
      for (int64_t step = span / 2; step >= 1; step /= 2) {
        out << p1 << "if (" << red << " < " << step << " && " << red << " + " << step << " < " << G << ") {\n";
        for (size_t v = 0; v < pairs.size(); ++v)
          out << p2 << pairs[v].other << " = " << smem[v] << "[" << base << " + " << red << " + " << step << "];\n";
        print_combine(indent + 2);
        for (size_t v = 0; v < pairs.size(); ++v) out << p2 << smem[v] << "[" << base << " + " << red << "] = " << pairs[v].red << ";\n";
        out << p1 << "}\n" << p1 << "__syncthreads();\n";
      }
      for (size_t v = 0; v < pairs.size(); ++v) out << p1 << pairs[v].red << " = " << smem[v] << "[" << base << "];\n";
      out << p1 << "__syncthreads();  // before the shared slots are reused\n";
    }
  }
  if (ar.result) printer.print_stmt(ar.result->body, indent + 1, out);
  out << p0 << "}\n";
}

}  // namespace te
