// Target::parse / Target::str: "llvm", "llvm -mcpu=znver4 -mattr=+avx512f,+fma -num-threads=2",
// "cuda [-arch=sm_NN] [-use_fast_math] [-Xnvrtc=<flag>]... [-max-threads-per-block=<n>]
// [-max-shared-memory-per-block=<bytes>]". Every token is checked; a bad one is named in the te::Error.
#include <cctype>
#include <cstdlib>
#include <charconv>
#include <sstream>

#include "te/lower.h"

namespace te {
namespace {

void check_nvrtc_flag(const std::string& flag, const std::string& s);  // below

constexpr const char* kTargetHelp =
    "expected \"llvm [-mcpu=<cpu>] [-mattr=+feat,-feat] [-num-threads=<n>]\" or \"cuda [-arch=sm_NN] "
    "[-use_fast_math] [-Xnvrtc=<flag>] [-max-threads-per-block=<n>] [-max-shared-memory-per-block=<bytes>]\"";

std::vector<std::string> split_whitespace(const std::string& s) {
  std::istringstream in(s);
  std::vector<std::string> tokens;
  std::string token;
  while (in >> token) tokens.push_back(token);
  return tokens;
}

// CPU and feature names are LLVM identifiers: letters, digits, '_', '.', '-' (znver4,
// x86-64-v4, sse4.2). Anything else (control characters, NUL, quotes, '$', ';') is refused
// here, before a value reaches LLVM: target strings also come from tuning logs, which are
// untrusted files (a NUL inside -mcpu= was found by tests/fuzz/libfuzzer/fuzz_target_string).
bool is_llvm_name(const std::string& name) {
  if (name.empty()) return false;
  for (char c : name)
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '_' && c != '.' && c != '-') return false;
  return true;
}

// "+avx512f,+fma": comma-separated features, each "+name" or "-name".
void check_mattr(const std::string& mattr, const std::string& target_string) {
  if (mattr.empty()) fail("target '", target_string, "': -mattr= needs a value; ", kTargetHelp);
  size_t start = 0;
  while (start <= mattr.size()) {
    size_t comma = mattr.find(',', start);
    if (comma == std::string::npos) comma = mattr.size();
    std::string feature = mattr.substr(start, comma - start);
    if (feature.size() < 2 || (feature[0] != '+' && feature[0] != '-') || !is_llvm_name(feature.substr(1)))
      fail("target '", target_string, "': bad -mattr feature '", feature,
           "'; each feature is +name or -name, separated by commas (e.g. -mattr=+avx512f,+fma)");
    start = comma + 1;
  }
}

int parse_num_threads(const std::string& value, const std::string& target_string) {
  int n = -1;
  auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), n);
  if (ec != std::errc() || end != value.data() + value.size() || n < 0)
    fail("target '", target_string, "': bad -num-threads value '", value,
         "'; expected a non-negative integer (0 = all cores)");
  return n;
}

int64_t parse_positive(const std::string& key, const std::string& value, const std::string& target_string) {
  int64_t n = -1;
  auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), n);
  if (ec != std::errc() || end != value.data() + value.size() || n <= 0)
    fail("target '", target_string, "': bad ", key, " value '", value, "'; expected a positive integer");
  return n;
}

// The options of target cuda; returns false when `key` is not one of them.
bool parse_cuda_option(Target& target, const std::string& token, const std::string& key, const std::string& value,
                       bool has_value, const std::string& s) {
  if (key == "-use_fast_math") {
    if (has_value) fail("target '", s, "': -use_fast_math takes no value");
    target.fast_math = true;
    return true;
  }
  bool known = key == "-arch" || key == "-Xnvrtc" || key == "-max-threads-per-block" ||
               key == "-max-shared-memory-per-block";
  if (!known) return false;
  if (!has_value || value.empty()) fail("target '", s, "': option '", token, "' needs a value (", key, "=...)");
  if (key == "-arch") {
    if (!target.arch.empty()) fail("target '", s, "': option -arch is given twice");
    bool ok = (value.rfind("sm_", 0) == 0 || value.rfind("compute_", 0) == 0) && value.size() > 3;
    size_t digits = value.find('_') + 1;
    ok = ok && digits < value.size() && std::isdigit(static_cast<unsigned char>(value[digits]));
    if (!ok) fail("target '", s, "': bad -arch '", value, "'; expected sm_<NN> (e.g. sm_90) or compute_<NN>");
    target.arch = value;
  } else if (key == "-Xnvrtc") {
    check_nvrtc_flag(value, s);
    target.nvrtc_flags.push_back(value);
  } else if (key == "-max-threads-per-block") {
    target.max_threads_per_block = parse_positive(key, value, s);
  } else {
    target.max_shared_memory_per_block = parse_positive(key, value, s);
  }
  return true;
}

// NVRTC flags a target may pass (-Xnvrtc=<flag>): code-generation switches only. Flags that
// name files (--include-path, --pre-include, -time=<file>, --fdevice-time-trace, PCH options)
// or reach other tools (-Xptxas) are refused, because target strings also come from tuning
// logs and exported manifests, which are data (README, "Security notes").
void check_nvrtc_flag(const std::string& flag, const std::string& s) {
  static const char* const kAllowedPrefixes[] = {
      "-lineinfo", "--generate-line-info", "-G", "--device-debug", "-maxrregcount=", "--maxrregcount=",
      "-ftz=", "--ftz=", "-prec-div=", "--prec-div=", "-prec-sqrt=", "--prec-sqrt=", "-fmad=", "--fmad=",
      "-D", "--define-macro=", "-U", "--undefine-macro=", "-std=", "--std=", "-restrict", "--restrict",
      "-extra-device-vectorization", "--extra-device-vectorization", "-dopt=", "--dopt=", "-w",
      "--disable-warnings", "-default-device", "--device-as-default-execution-space"};
  bool charset_ok = !flag.empty() && flag[0] == '-';
  for (char c : flag)
    charset_ok = charset_ok && (std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '=' ||
                                c == '.' || c == '+');
  bool known = false;
  for (const char* prefix : kAllowedPrefixes) known = known || flag.rfind(prefix, 0) == 0;
  if (!charset_ok || !known)
    fail("target '", s, "': -Xnvrtc flag '", flag, "' is not allowed; te passes only code-generation flags to NVRTC ",
         "(-lineinfo, -G, --maxrregcount=<n>, --ftz=, --prec-div=, --prec-sqrt=, --fmad=, -D<macro>[=<value>], -U<macro>, ",
         "--std=, --restrict, --extra-device-vectorization, --dopt=, -w), never flags that name files or other tools");
}

}  // namespace

Target Target::parse(const std::string& s) {
  // Control characters are refused before the string is quoted in any message: a NUL would
  // cut the message short (what() is a C string) and escapes would garble a terminal.
  for (size_t i = 0; i < s.size(); ++i) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    if ((c < 0x20 && c != '\t' && c != '\n' && c != '\r') || c == 0x7f)
      fail("target string has a control character (byte ", int(c), " at position ", i,
           "); a target is printable text such as \"llvm -mcpu=znver4\"");
  }
  std::vector<std::string> tokens = split_whitespace(s);
  if (tokens.empty()) fail("target is empty; ", kTargetHelp);
  Target target;
  target.kind = tokens[0];
  if (target.kind != "llvm" && target.kind != "cuda")
    fail("target '", s, "': unknown target kind '", tokens[0], "'; ", kTargetHelp);
  bool seen_mcpu = false, seen_mattr = false, seen_threads = false;
  for (size_t t = 1; t < tokens.size(); ++t) {
    const std::string& token = tokens[t];
    size_t eq = token.find('=');
    std::string key = token.substr(0, eq);
    std::string value = eq == std::string::npos ? std::string() : token.substr(eq + 1);
    bool known = key == "-mcpu" || key == "-mattr" || key == "-num-threads";
    if (target.kind == "cuda") {
      if (parse_cuda_option(target, token, key, value, eq != std::string::npos, s)) continue;
      if (known) fail("target '", s, "': option '", token, "' is for target llvm; ", kTargetHelp);
    }
    if (!known) fail("target '", s, "': unknown option '", token, "'; ", kTargetHelp);
    if (eq == std::string::npos)
      fail("target '", s, "': option '", token, "' needs a value (", key, "=...)");
    bool& seen = key == "-mcpu" ? seen_mcpu : key == "-mattr" ? seen_mattr : seen_threads;
    if (seen) fail("target '", s, "': option ", key, " is given twice");
    seen = true;
    if (key == "-mcpu") {
      if (value.empty()) fail("target '", s, "': -mcpu= needs a CPU name (e.g. -mcpu=znver4)");
      if (!is_llvm_name(value))
        fail("target '", s, "': bad -mcpu value; a CPU name has only letters, digits, '_', '.' and '-' "
             "(e.g. -mcpu=znver4)");
      target.mcpu = value;
    } else if (key == "-mattr") {
      check_mattr(value, s);
      target.mattr = value;
    } else {
      target.num_threads = parse_num_threads(value, s);
    }
  }
  return target;
}

int Target::cuda_arch_number() const {
  std::string name = arch;
  if (name.empty())
    if (const char* env = std::getenv("TE_CUDA_ARCH")) name = env;
  const size_t digits = name.find('_');
  return digits == std::string::npos ? 0 : std::atoi(name.c_str() + digits + 1);
}

std::string Target::str() const {
  std::string out = kind;
  if (!mcpu.empty()) out += " -mcpu=" + mcpu;
  if (!mattr.empty()) out += " -mattr=" + mattr;
  if (num_threads != 0) out += " -num-threads=" + std::to_string(num_threads);
  if (!arch.empty()) out += " -arch=" + arch;
  if (fast_math) out += " -use_fast_math";
  for (const std::string& flag : nvrtc_flags) out += " -Xnvrtc=" + flag;
  if (max_threads_per_block) out += " -max-threads-per-block=" + std::to_string(max_threads_per_block);
  if (max_shared_memory_per_block)
    out += " -max-shared-memory-per-block=" + std::to_string(max_shared_memory_per_block);
  return out;
}

}  // namespace te
