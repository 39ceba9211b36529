// src/autotune/log.cc — tuning records as versioned JSON lines (te/autotune/log.h).
//
// One record per line, written with one write() and fsync'ed, so a killed job loses at most
// the line being written; that torn line is skipped when the log is read, and the next
// writer starts a fresh line after it. A record line looks like (wrapped here):
//   {"version":1,"workload_key":"matmul(64,64,64)","target":"llvm","hardware":"cpu: ...",
//    "config":{"tile_i":3,...},"config_index":17,"steps":[{...},...],"costs":[1.2e-05,...],
//    "error":"none","error_message":"","build_seconds":0.05,"timestamp":1763780000.5,
//    "code_hash":"...","flop":524288,"te_version":"0.1.0"}
// config and steps are embedded JSON (an object and an array), not strings inside strings,
// so the log stays readable and greppable.
#include "te/autotune/log.h"

#include <dlfcn.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstring>
#include <fstream>
#include <iostream>
#include <cstdint>
#include <limits>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <set>
#include <utility>

#include "codegen/runtime/thread_pool.h"
#include "schedule/untrusted_json.h"

#ifndef TE_VERSION
#define TE_VERSION "unknown"
#endif

namespace te::autotune {

using json = nlohmann::json;

namespace {

// Embeds a JSON text (config or steps) as a value; empty text becomes null. A text that is
// not JSON is an internal error: it came from Config::to_json / Schedule::steps_json.
json embed(const std::string& text, const char* field) {
  if (text.empty()) return nullptr;
  json value = json::parse(text, nullptr, /*allow_exceptions=*/false);
  TE_ICHECK(!value.is_discarded(), "record field '", field, "' holds text that is not JSON: ", text);
  return value;
}

std::string unembed(const json& value) { return value.is_null() ? std::string() : value.dump(); }

template <typename T>
T field_or(const json& j, const char* key, T fallback) {
  auto it = j.find(key);
  if (it == j.end() || it->is_null()) return fallback;
  return it->get<T>();
}

// An integer field of a record. nlohmann's get<int>() on 1e300 or 2^63 converts out of range
// (undefined behaviour, found by fuzz_tuning_log under UBSan): logs are untrusted, so the
// JSON type and the range are checked first; a missing or null field is the fallback.
int64_t int_field(const json& j, const char* key, int64_t fallback, int64_t lo = INT64_MIN, int64_t hi = INT64_MAX) {
  auto it = j.find(key);
  if (it == j.end() || it->is_null()) return fallback;
  if (!it->is_number_integer()) fail("tuning record field '", key, "' must be an integer, got ", it->dump());
  if (it->is_number_unsigned() ? it->get<uint64_t>() > uint64_t(hi) : it->get<int64_t>() < lo || it->get<int64_t>() > hi)
    fail("tuning record field '", key, "' = ", it->dump(), " is out of range [", lo, ", ", hi, "]");
  return it->get<int64_t>();
}

// A double that JSON cannot hold (inf, nan) is written as null; read back as +inf.
json number(double x) { return std::isfinite(x) ? json(x) : json(nullptr); }
double number_from(const json& j) {
  return j.is_null() ? std::numeric_limits<double>::infinity() : j.get<double>();
}

bool is_valid(const Record& r) {
  if (r.result.error != ErrorKind::kNone || r.result.costs.empty()) return false;
  double mean = r.result.mean_cost();
  return std::isfinite(mean) && mean > 0;
}

std::string errno_text() { return std::strerror(errno); }

}  // namespace

// ---------------------------------------------------------------- Record

std::string Record::to_json_line() const {
  json j;
  j["version"] = version;
  j["workload_key"] = workload_key;
  j["target"] = target;
  j["hardware"] = hardware;
  j["config"] = embed(config_json, "config");
  j["config_index"] = config_index;
  // The record's own steps win; the measurer's copy is the fallback (they are the same
  // schedule, so only one is written).
  j["steps"] = embed(steps_json.empty() ? result.steps_json : steps_json, "steps");
  json costs = json::array();
  for (double c : result.costs) costs.push_back(number(c));
  j["costs"] = std::move(costs);
  j["error"] = to_string(result.error);
  j["error_message"] = result.error_message;
  j["build_seconds"] = number(result.build_seconds);
  j["timestamp"] = number(result.timestamp);
  j["code_hash"] = result.code_hash;
  j["flop"] = number(flop);
  j["te_version"] = te_version;
  // Invalid UTF-8 (e.g. a compiler message cut mid-character) is replaced, never thrown.
  return j.dump(-1, ' ', false, json::error_handler_t::replace);
}

Record Record::from_json_line(const std::string& s) {
  json j = parse_untrusted_json(s);  // depth-limited: a log is untrusted input
  if (j.is_discarded() || !j.is_object())
    fail("tuning record is not a JSON object (nested at most ", kMaxUntrustedJsonDepth, " levels): '", s.substr(0, 80), "'");
  for (const char* key : {"version", "workload_key", "target", "error"}) {
    if (!j.contains(key)) fail("tuning record lacks the field '", key, "': '", s.substr(0, 80), "'");
  }
  Record r;
  try {
    int64_t version = int_field(j, "version", 0, INT32_MIN, INT32_MAX);
    if (version < 1 || version > kLogVersion) {
      fail("tuning record has version ", version, "; this te (", TE_VERSION, ") reads versions 1..",
           kLogVersion);
    }
    r.version = int(version);
    r.workload_key = j.at("workload_key").get<std::string>();
    r.target = j.at("target").get<std::string>();
    r.hardware = field_or<std::string>(j, "hardware", "");
    r.config_json = j.contains("config") ? unembed(j["config"]) : std::string();
    r.config_index = int_field(j, "config_index", -1);
    r.steps_json = j.contains("steps") ? unembed(j["steps"]) : std::string();
    r.result.steps_json = r.steps_json;
    if (j.contains("costs") && !j.at("costs").is_null()) {
      if (!j.at("costs").is_array()) fail("tuning record field 'costs' must be a list, got ", j.at("costs").type_name());
      for (const json& c : j.at("costs")) r.result.costs.push_back(number_from(c));
    }
    r.result.error = error_kind_from_string(j.at("error").get<std::string>());
    r.result.error_message = field_or<std::string>(j, "error_message", "");
    r.result.build_seconds = field_or<double>(j, "build_seconds", 0);
    r.result.timestamp = field_or<double>(j, "timestamp", 0);
    r.result.code_hash = field_or<std::string>(j, "code_hash", "");
    r.flop = field_or<double>(j, "flop", 0);
    r.te_version = field_or<std::string>(j, "te_version", "");
  } catch (const json::exception& e) {
    fail("tuning record has a field of the wrong type (", e.what(), "): '", s.substr(0, 80), "'");
  }
  return r;
}

double Record::gflops() const {
  if (!is_valid(*this) || flop <= 0) return 0;
  return flop / result.mean_cost() / 1e9;
}

// ---------------------------------------------------------------- LogWriter

LogWriter::LogWriter(const std::string& path) : path_(path) {
  // O_RDWR so that the last byte can be checked; O_APPEND makes every write land at the end
  // even when two jobs share one log.
  fd_ = ::open(path.c_str(), O_RDWR | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
  if (fd_ < 0 && errno == EACCES) fd_ = ::open(path.c_str(), O_WRONLY | O_APPEND | O_CLOEXEC);
  if (fd_ < 0) {
    fail("cannot open the tuning log '", path, "' for appending: ", errno_text(),
         " (check that its directory exists and is writable, and that it is not a directory)");
  }
  struct stat st {};
  if (::fstat(fd_, &st) != 0 || !S_ISREG(st.st_mode)) {
    ::close(fd_);
    fd_ = -1;
    fail("the tuning log '", path, "' is not a regular file; pass a file path to --log");
  }
  // A kill mid-write leaves a last line without '\n': end it so the next record starts on
  // its own line (the torn line is then skipped by read_log, and this one is not lost).
  char last = '\n';
  if (st.st_size > 0 && ::pread(fd_, &last, 1, st.st_size - 1) == 1 && last != '\n') {
    if (::write(fd_, "\n", 1) != 1) {
      std::string why = errno_text();
      ::close(fd_);
      fd_ = -1;
      fail("cannot write to the tuning log '", path, "': ", why);
    }
  }
}

LogWriter::~LogWriter() {
  if (fd_ >= 0) ::close(fd_);
}

void LogWriter::append(const Record& record) {
  TE_ICHECK(fd_ >= 0, "LogWriter used after a failed open");
  std::string line = record.to_json_line();
  line.push_back('\n');
  // One write() for the whole line: with O_APPEND it is not interleaved with other
  // writers'. The loop only matters for EINTR or a full disk's short write.
  size_t done = 0;
  while (done < line.size()) {
    ssize_t n = ::write(fd_, line.data() + done, line.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) fail("cannot append to the tuning log '", path_, "': ", errno_text());
    done += size_t(n);
  }
  if (::fsync(fd_) != 0 && errno != EINVAL) {
    fail("cannot flush the tuning log '", path_, "' to disk: ", errno_text());
  }
}

// ---------------------------------------------------------------- reading

LogContents read_log(const std::string& path) {
  LogContents contents;
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) {
    if (errno == ENOENT) return contents;  // a log that does not exist yet is empty
    fail("cannot read the tuning log '", path, "': ", errno_text());
  }
  if (S_ISDIR(st.st_mode)) fail("the tuning log '", path, "' is a directory; pass a .jsonl file");
  std::ifstream in(path, std::ios::binary);
  if (!in) fail("cannot read the tuning log '", path, "': ", errno_text());
  std::string line;
  while (std::getline(in, line)) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.find_first_not_of(" \t") == std::string::npos) continue;  // blank lines are not records
    try {
      contents.records.push_back(Record::from_json_line(line));
    } catch (const std::exception&) {
      // A torn line, foreign text or a record from a newer te: counted, never fatal.
      ++contents.skipped_lines;
    }
  }
  if (in.bad()) fail("error while reading the tuning log '", path, "': ", errno_text());
  return contents;
}

std::string canonical_config_json(const std::string& config_json) {
  nlohmann::json doc = parse_untrusted_json(config_json);
  return doc.is_object() ? doc.dump() : config_json;
}

std::optional<Record> best_record(const std::vector<Record>& records, const std::string& workload_key,
                                  const std::string& target, const std::string& hardware) {
  auto candidate = [&](const Record& r) { return r.workload_key == workload_key && r.target == target && is_valid(r); };
  bool measured_here = false;
  for (const Record& r : records) measured_here = measured_here || (!hardware.empty() && candidate(r) && r.hardware == hardware);
  // The valid records of each config (by canonical JSON; a record without one stands alone).
  std::map<std::string, std::vector<const Record*>> by_config;
  std::vector<std::vector<const Record*>> groups;
  for (const Record& r : records) {
    if (!candidate(r) || (measured_here && r.hardware != hardware)) continue;
    if (r.config_json.empty())
      groups.push_back({&r});
    else
      by_config[canonical_config_json(r.config_json)].push_back(&r);
  }
  for (auto& [config, measured] : by_config) groups.push_back(std::move(measured));
  // Configs measured kConfirmedRecords times or more were re-measured by refine(), round by
  // round with the other leaders: they decide, each by its median record. One measurement
  // ranks a config by the moment it ran in (on a shared machine a config can look 30% faster
  // or slower than it is), so a config measured once can neither win nor lose against them.
  bool any_confirmed = false;
  for (const auto& g : groups) any_confirmed = any_confirmed || int(g.size()) >= kConfirmedRecords;
  const Record* best = nullptr;
  for (auto& g : groups) {
    if (any_confirmed && int(g.size()) < kConfirmedRecords) continue;
    std::stable_sort(g.begin(), g.end(), [](const Record* x, const Record* y) {
      return x->result.mean_cost() < y->result.mean_cost();
    });
    const Record* pick = any_confirmed ? g[(g.size() - 1) / 2] : g.front();
    if (best == nullptr || pick->result.mean_cost() < best->result.mean_cost()) best = pick;
  }
  if (best == nullptr) return std::nullopt;
  return *best;
}

namespace {

// Prints the "using the default schedule" note once per (workload, target) per process.
void note_default_once(const std::string& key, const std::string& target, const std::string& message) {
  static std::mutex mutex;
  static std::set<std::pair<std::string, std::string>> noted;
  std::lock_guard<std::mutex> lock(mutex);
  if (noted.insert({key, target}).second) std::cerr << message << std::endl;
}

}  // namespace

Instance apply_history_best(const std::string& log_path, const Task& task) {
  const std::string target = task.target.str();
  std::optional<Record> best =
      best_record(read_log(log_path).records, task.workload_key, target, this_machine(target));
  std::string why_not;
  if (best) {
    // The steps reproduce the schedule exactly; the config is the fallback for a record
    // whose steps no longer replay (e.g. written by an older schedule language).
    try {
      return task.replay(Schedule::steps_from_json(best->steps_json));
    } catch (const Error& e) {
      why_not = e.what();
    }
    try {
      return task.instantiate(task.space.from_json(best->config_json));
    } catch (const Error& e) {
      why_not += std::string("; its config: ") + e.what();
    }
    note_default_once(
        task.workload_key, target,
        detail::cat("te: the best tuning record for ", task.workload_key, " on ", target, " in ", log_path,
                    " does not apply (", why_not, "); using the default schedule"));
  } else {
    note_default_once(task.workload_key, target,
                      detail::cat("te: no tuning record for ", task.workload_key, " on ", target, " in ",
                                  log_path, "; using the default schedule"));
  }
  // The documented default: the first choice of every knob (the space-mode config).
  return task.instantiate(task.space.from_index(0));
}

// ---------------------------------------------------------------- hardware

namespace {

// The value of the first "key : value" line of /proc/cpuinfo whose key is `key` ("" if none).
std::string cpuinfo_field(const std::string& key) {
  std::ifstream in("/proc/cpuinfo");
  std::string line;
  while (std::getline(in, line)) {
    size_t colon = line.find(':');
    if (colon == std::string::npos) continue;
    size_t key_end = line.find_last_not_of(" \t", colon == 0 ? 0 : colon - 1);
    if (key_end == std::string::npos || line.compare(0, key_end + 1, key) != 0 || key_end + 1 != key.size()) continue;
    size_t start = line.find_first_not_of(" \t", colon + 1);
    return start == std::string::npos ? std::string() : line.substr(start);
  }
  return "";
}

// The model name plus the family and model numbers: under a hypervisor the name is often just
// "Intel(R) Xeon(R) Processor" for every generation, and a log tuned on one host must say
// which CPU its times belong to (Ice Lake's family 6 model 106 and Sapphire Rapids' 143 differ).
std::string cpu_model_name() {
  std::string name = cpuinfo_field("model name"), family = cpuinfo_field("cpu family"),
              model = cpuinfo_field("model");
  if (name.empty()) name = "unknown";
  if (!family.empty() && !model.empty()) name += detail::cat(" (family ", family, " model ", model, ")");
  return name;
}

// The GPU's name and the driver version through the driver API, loaded at run time like the
// CUDA backend does, so machines without a driver just say "unknown".
std::string gpu_name() {
  void* lib = ::dlopen("libcuda.so.1", RTLD_NOW | RTLD_LOCAL);
  if (lib == nullptr) return "unknown";
  using InitFn = int (*)(unsigned);
  using DeviceGetFn = int (*)(int*, int);
  using DeviceGetNameFn = int (*)(char*, int, int);
  using DriverGetVersionFn = int (*)(int*);
  auto init = reinterpret_cast<InitFn>(::dlsym(lib, "cuInit"));
  auto device_get = reinterpret_cast<DeviceGetFn>(::dlsym(lib, "cuDeviceGet"));
  auto device_name = reinterpret_cast<DeviceGetNameFn>(::dlsym(lib, "cuDeviceGetName"));
  auto driver_version = reinterpret_cast<DriverGetVersionFn>(::dlsym(lib, "cuDriverGetVersion"));
  std::string result = "unknown";
  int device = 0;
  char name[256] = {0};
  if (init && device_get && device_name && init(0) == 0 && device_get(&device, 0) == 0 &&
      device_name(name, int(sizeof(name)) - 1, device) == 0) {
    result = name;
    int version = 0;
    if (driver_version && driver_version(&version) == 0 && version > 0) {
      result += detail::cat(", driver ", version / 1000, ".", (version % 1000) / 10);
    }
  }
  // Left loaded: the CUDA backend keeps its own handle, and unloading a driver is unsafe.
  return result;
}

}  // namespace

std::string this_machine(const std::string& target) {
  Target parsed = Target::parse(target);
  return parsed.kind == "llvm" ? hardware_description(parsed) : std::string();
}

std::string hardware_description(const Target& target) {
  if (target.kind == "cuda") {
    static const std::string gpu = gpu_name();
    return "gpu: " + gpu;
  }
  static const std::string model = cpu_model_name();
  int threads = runtime::resolve_num_threads(target.num_threads);
  return detail::cat("cpu: ", model, ", ", threads, threads == 1 ? " thread" : " threads");
}

}  // namespace te::autotune
