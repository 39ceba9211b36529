// Fuzzes what a tuning record says about its workload: the template workload key parser
// (autotune::parse_template_key, "matmul(64,64,32)") and the record's config JSON read
// against a task's space (Config::from_json, {"tile_i": 3, ...}). The input is split at
// the first NUL byte: the key before it, the config JSON after it.
#include "fuzz_common.h"
#include "te/autotune/task.h"
#include "te/ops.h"

using namespace te;
using namespace te::autotune;

namespace {
const Task& matmul_task() {
  static const Task task = [] {
    ops::register_builtin_templates();
    return create_task("matmul", {64, 48, 32}, "llvm");
  }();
  return task;
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string text = fuzz::as_string(data, size);
  size_t nul = text.find('\0');
  std::string key = text.substr(0, nul);
  std::string config = nul == std::string::npos ? std::string() : text.substr(nul + 1);

  std::optional<TemplateKey> parsed = parse_template_key(key);
  if (parsed) {
    fuzz::require(!parsed->name.empty() && parsed->name.find('(') == std::string::npos, "bad template name");
    std::string again = parsed->name + "(";
    for (size_t i = 0; i < parsed->args.size(); ++i) again += (i ? "," : "") + std::to_string(parsed->args[i]);
    again += ")";
    std::optional<TemplateKey> reparsed = parse_template_key(again);
    fuzz::require(reparsed && reparsed->name == parsed->name && reparsed->args == parsed->args,
                  "a parsed workload key does not print and parse back");
  }

  const Task& task = matmul_task();
  Config cfg;
  if (fuzz::accepts([&] { cfg = task.space.from_json(config); })) {
    Config back;
    fuzz::require(fuzz::accepts([&] { back = task.space.from_json(cfg.to_json()); }),
                  "a config read from JSON does not read back after writing");
    fuzz::require(back.to_json() == cfg.to_json(), "a config changed in a JSON round trip");
    fuzz::accepts([&] { task.instantiate(cfg); });
  }
  return 0;
}
