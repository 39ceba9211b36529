// build_llvm: codegen → O3 → ORC LLJIT, producing an LLVMModuleNode whose `kernel` points
// at the JIT-compiled entry. te's runtime entries (te_parallel_for, te_runtime_alloc/free)
// are defined in the JIT by address; libm is resolved from the running process.
#include <llvm/ExecutionEngine/Orc/ExecutionUtils.h>
#include <llvm/ExecutionEngine/Orc/LLJIT.h>
#include <llvm/ExecutionEngine/Orc/ThreadSafeModule.h>
#include <llvm/IRReader/IRReader.h>
#include <llvm/Support/SourceMgr.h>
#include <llvm/Support/raw_ostream.h>

#include "codegen/llvm/codegen_llvm.h"
#include "codegen/llvm/llvm_module.h"
#include "codegen/llvm/llvm_module_node.h"
#include "codegen/runtime/thread_pool.h"

namespace te {
namespace llvm_backend {
namespace {

template <typename T>
T unwrap(llvm::Expected<T> value, const std::string& what) {
  if (!value) TE_ICHECK(false, what, ": ", llvm::toString(value.takeError()));
  return std::move(*value);
}
void check(llvm::Error err, const std::string& what) {
  if (err) TE_ICHECK(false, what, ": ", llvm::toString(std::move(err)));
}

std::vector<std::string> split_features(const std::string& features) {
  std::vector<std::string> out;
  size_t start = 0;
  while (start < features.size()) {
    size_t comma = features.find(',', start);
    if (comma == std::string::npos) comma = features.size();
    if (comma > start) out.push_back(features.substr(start, comma - start));
    start = comma + 1;
  }
  return out;
}


}  // namespace

LLVMModuleNode::~LLVMModuleNode() = default;

std::string LLVMModuleNode::get_source(const std::string& format) const {
  if (format == "ll" || format == "llvm") return optimized_ir;
  if (format == "asm" || format == "s") {
    llvm::LLVMContext ctx;
    llvm::SMDiagnostic diag;
    std::unique_ptr<llvm::Module> m = llvm::parseIR(llvm::MemoryBufferRef(optimized_ir, func.name), diag, ctx);
    TE_ICHECK(m, "re-parsing the optimized IR failed: ", diag.getMessage().str());
    auto machine = create_target_machine(cpu, /*pic=*/false);
    return emit_machine_code(*m, *machine, /*assembly=*/true);
  }
  fail("get_source: unknown format '", format, "'; expected \"ll\", \"asm\" or \"lowered\"");
}

}  // namespace llvm_backend

std::shared_ptr<ModuleNode> build_llvm(const LoweredFunc& func, const Target& target) {
  using namespace llvm_backend;
  auto node = std::make_shared<LLVMModuleNode>();
  node->func = func;
  node->target = target;
  node->cpu = resolve_cpu(target);

  auto context = std::make_unique<llvm::LLVMContext>();
  CodegenResult gen = codegen_llvm(func, target, node->cpu, *context);
  node->has_parallel = gen.has_parallel;
  node->has_heap_alloc = gen.has_heap_alloc;
  auto machine = create_target_machine(node->cpu, /*pic=*/false);
  gen.module->setDataLayout(machine->createDataLayout());
  optimize_module(*gen.module, *machine);
  llvm::raw_string_ostream ir(node->optimized_ir);
  gen.module->print(ir, nullptr);
  ir.flush();

  llvm::orc::JITTargetMachineBuilder jtmb{llvm::Triple(node->cpu.triple)};
  jtmb.setCPU(node->cpu.cpu);
  jtmb.addFeatures(split_features(node->cpu.features));
  jtmb.setCodeGenOptLevel(llvm::CodeGenOptLevel::Aggressive);
  jtmb.getOptions().AllowFPOpFusion = llvm::FPOpFusion::Fast;
  node->jit = unwrap(llvm::orc::LLJITBuilder().setJITTargetMachineBuilder(std::move(jtmb)).create(), "creating the LLJIT");
  auto& dylib = node->jit->getMainJITDylib();
  // te's runtime entries are defined by address, so kernels work however libte was loaded
  // (a Python extension or a plugin dlopen()ed with RTLD_LOCAL hides its symbols from a
  // by-name search of the process). libm and libc still come from the process.
  llvm::orc::SymbolMap runtime_entries;
  auto define = [&](const char* name, const void* address) {
    runtime_entries[node->jit->mangleAndIntern(name)] = llvm::orc::ExecutorSymbolDef(
        llvm::orc::ExecutorAddr::fromPtr(address), llvm::JITSymbolFlags::Exported | llvm::JITSymbolFlags::Callable);
  };
  define("te_parallel_for", reinterpret_cast<const void*>(&te_parallel_for));
  define("te_runtime_alloc", reinterpret_cast<const void*>(&te_runtime_alloc));
  define("te_runtime_free", reinterpret_cast<const void*>(&te_runtime_free));
  check(dylib.define(llvm::orc::absoluteSymbols(std::move(runtime_entries))), "defining te's runtime entries in the JIT");
  dylib.addGenerator(unwrap(llvm::orc::DynamicLibrarySearchGenerator::GetForCurrentProcess(
                                node->jit->getDataLayout().getGlobalPrefix()),
                            "adding the process's symbols to the JIT"));
  check(node->jit->addIRModule(llvm::orc::ThreadSafeModule(std::move(gen.module), std::move(context))),
        "adding the kernel module to the JIT");
  auto address = unwrap(node->jit->lookup(kernel_symbol(func.name)), "looking up kernel " + func.name);
  node->kernel = address.toPtr<KernelFn>();
  return node;
}

}  // namespace te
