// Target selection and the optimization pipeline of the LLVM backend.
#include "codegen/llvm/target_machine.h"
#include "codegen/runtime/module_node.h"

#include <llvm/ADT/SmallVector.h>
#include <llvm/Analysis/CGSCCPassManager.h>
#include <llvm/Analysis/LoopAnalysisManager.h>
#include <llvm/IR/LegacyPassManager.h>
#include <llvm/IR/PassManager.h>
#include <llvm/MC/MCSubtargetInfo.h>
#include <llvm/MC/TargetRegistry.h>
#include <llvm/Passes/PassBuilder.h>
#include <llvm/Support/TargetSelect.h>
#include <llvm/Support/raw_ostream.h>
#include <llvm/TargetParser/Host.h>

#include <cstdlib>
#include <mutex>
#include <string>

namespace te::llvm_backend {
namespace {

void initialize_llvm() {
  static std::once_flag once;
  std::call_once(once, [] {
    llvm::InitializeNativeTarget();
    llvm::InitializeNativeTargetAsmPrinter();
    llvm::InitializeNativeTargetAsmParser();
  });
}

const llvm::Target* lookup_target(const std::string& triple) {
  std::string error;
  const llvm::Target* t = llvm::TargetRegistry::lookupTarget(triple, error);
  if (!t) fail("target: LLVM has no backend for triple ", triple, ": ", error);
  return t;
}

}  // namespace

CpuSpec resolve_cpu(const Target& target) {
  initialize_llvm();
  // The host does not change while we run; asking LLVM (which reads cpuid) costs per build.
  static const CpuSpec host = [] {
    CpuSpec h;
    h.triple = llvm::sys::getProcessTriple();
    h.cpu = llvm::sys::getHostCPUName().str();
    for (const auto& [name, enabled] : llvm::sys::getHostCPUFeatures())
      h.features += (h.features.empty() ? "" : ",") + std::string(enabled ? "+" : "-") + name.str();
    return h;
  }();
  CpuSpec spec;
  spec.triple = host.triple;
  if (target.mcpu.empty()) {
    spec.cpu = host.cpu;
    spec.features = host.features;
  } else {
    spec.cpu = target.mcpu;
    const llvm::Target* t = lookup_target(spec.triple);
    std::unique_ptr<llvm::MCSubtargetInfo> sti(t->createMCSubtargetInfo(spec.triple, "", ""));
    if (!sti || !sti->isCPUStringValid(spec.cpu))
      fail("target: -mcpu=", spec.cpu, " is not a CPU LLVM knows for ", spec.triple,
           " (e.g. x86-64-v4, skylake-avx512, znver4)");
  }
  if (!target.mattr.empty()) {
    // LLVM only warns on stderr about unknown features; reject them as the user's mistake.
    const llvm::Target* t = lookup_target(spec.triple);
    std::unique_ptr<llvm::MCSubtargetInfo> sti(t->createMCSubtargetInfo(spec.triple, "", ""));
    llvm::SmallVector<llvm::StringRef, 16> entries;
    llvm::StringRef(target.mattr).split(entries, ',', -1, /*KeepEmpty=*/false);
    for (llvm::StringRef entry : entries) {
      entry = entry.trim();
      bool known = false;
      if (entry.size() > 1 && (entry[0] == '+' || entry[0] == '-'))
        for (const llvm::SubtargetFeatureKV& kv : sti->getAllProcessorFeatures())
          known = known || entry.drop_front() == kv.Key;
      if (!known)
        fail("target: -mattr entry '", entry.str(), "' is not a feature LLVM knows for ", spec.triple,
             "; expected a comma-separated list like +avx512f,-fma");
    }
    // Later entries win in LLVM's feature strings, so -mattr overrides the host's set.
    spec.features += (spec.features.empty() ? "" : ",") + target.mattr;
  }
  return spec;
}

std::vector<std::string> enabled_features(const CpuSpec& spec) {
  initialize_llvm();
  const llvm::Target* t = lookup_target(spec.triple);
  std::unique_ptr<llvm::MCSubtargetInfo> sti(t->createMCSubtargetInfo(spec.triple, spec.cpu, spec.features));
  TE_ICHECK(sti, "could not create LLVM subtarget info for ", spec.triple, " ", spec.cpu);
  std::vector<std::string> out;
  for (const llvm::SubtargetFeatureKV& kv : sti->getAllProcessorFeatures())
    if (sti->getFeatureBits().test(kv.Value)) out.push_back(kv.Key);
  return out;
}

std::unique_ptr<llvm::TargetMachine> create_target_machine(const CpuSpec& spec, bool pic) {
  initialize_llvm();
  const llvm::Target* t = lookup_target(spec.triple);
  llvm::TargetOptions options;
  options.AllowFPOpFusion = llvm::FPOpFusion::Fast;  // a*b+c → fma, as TVM does
  std::optional<llvm::Reloc::Model> reloc = pic ? llvm::Reloc::PIC_ : llvm::Reloc::Static;
  std::unique_ptr<llvm::TargetMachine> machine(t->createTargetMachine(
      spec.triple, spec.cpu, spec.features, options, reloc, std::nullopt, llvm::CodeGenOptLevel::Aggressive));
  TE_ICHECK(machine, "could not create an LLVM target machine for ", spec.triple, " ", spec.cpu);
  return machine;
}

void optimize_module(llvm::Module& module, llvm::TargetMachine& machine) {
  llvm::LoopAnalysisManager lam;
  llvm::FunctionAnalysisManager fam;
  llvm::CGSCCAnalysisManager cgam;
  llvm::ModuleAnalysisManager mam;
  llvm::PipelineTuningOptions tuning;
  tuning.LoopVectorization = true;
  // LLVM 19's SLP vectorizer miscompiles some straight-line code: it turned scalar loads of a
  // stack buffer into a masked gather scheduled before the stores that fill it (te_fuzz seed
  // 401534; FuzzRegressions.SlpGatherIsNotMovedAboveTheStoresItReads). te's schedules emit
  // vector code themselves (vectorize), and the loop vectorizer still runs, so SLP is off;
  // TE_LLVM_SLP=1 turns it back on for experiments.
  const char* slp = std::getenv("TE_LLVM_SLP");
  tuning.SLPVectorization = slp != nullptr && std::string(slp) == "1";
  tuning.LoopUnrolling = true;
  llvm::PassBuilder builder(&machine, tuning);
  builder.registerModuleAnalyses(mam);
  builder.registerCGSCCAnalyses(cgam);
  builder.registerFunctionAnalyses(fam);
  builder.registerLoopAnalyses(lam);
  builder.crossRegisterProxies(lam, fam, cgam, mam);
  llvm::ModulePassManager passes = builder.buildPerModuleDefaultPipeline(llvm::OptimizationLevel::O3);
  passes.run(module, mam);
}

std::string emit_machine_code(llvm::Module& module, llvm::TargetMachine& machine, bool assembly) {
  llvm::SmallVector<char, 0> buffer;
  llvm::raw_svector_ostream stream(buffer);
  llvm::legacy::PassManager passes;
  auto kind = assembly ? llvm::CodeGenFileType::AssemblyFile : llvm::CodeGenFileType::ObjectFile;
  bool cannot_emit = machine.addPassesToEmitFile(passes, stream, nullptr, kind);
  TE_ICHECK(!cannot_emit, "the LLVM target machine cannot emit ", assembly ? "assembly" : "objects");
  passes.run(module);
  return std::string(buffer.begin(), buffer.end());
}

}  // namespace te::llvm_backend

namespace te {
std::vector<std::string> host_cpu_features() { return llvm_backend::enabled_features(llvm_backend::resolve_cpu(Target())); }
}  // namespace te
