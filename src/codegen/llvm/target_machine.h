// src/codegen/llvm/target_machine.h — which CPU we compile for (host by default, or the
// target's -mcpu/-mattr), the LLVM TargetMachine for it, the O3 pipeline, and emission of
// assembly / object code. Private to src/codegen/llvm (includes LLVM headers).
#pragma once

#include <llvm/IR/Module.h>
#include <llvm/Target/TargetMachine.h>

#include <memory>
#include <string>
#include <vector>

#include "te/lower.h"

namespace te::llvm_backend {

struct CpuSpec {
  std::string triple;
  std::string cpu;       // e.g. "sapphirerapids"
  std::string features;  // "+avx512f,+fma,..."
};

// Host triple, CPU and features, overridden by target.mcpu / target.mattr.
// te::Error for an unknown CPU name.
CpuSpec resolve_cpu(const Target& target);
// Every feature LLVM turns on for spec (implied ones included), e.g. {"avx", "avx2", ...}.
std::vector<std::string> enabled_features(const CpuSpec& spec);
// pic: position-independent code (object files for shared libraries).
std::unique_ptr<llvm::TargetMachine> create_target_machine(const CpuSpec& spec, bool pic);
// Runs the new pass manager's O3 module pipeline with the machine's TTI.
void optimize_module(llvm::Module& module, llvm::TargetMachine& machine);
// Assembly text or object file bytes.
std::string emit_machine_code(llvm::Module& module, llvm::TargetMachine& machine, bool assembly);

}  // namespace te::llvm_backend
