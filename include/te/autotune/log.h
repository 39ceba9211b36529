// te/autotune/log.h — tuning records as versioned JSON lines. Each record is appended and
// flushed (fsync) as soon as it is measured; a torn last line (a kill mid-write) is skipped
// when read; a job resumes from its log without repeating measured configs.
// Layer 6 (uses task, measure).
#pragma once
#include <optional>
#include <string>
#include <vector>
#include "te/autotune/measure.h"

namespace te::autotune {

constexpr int kLogVersion = 1;

struct Record {
  int version = kLogVersion;
  std::string workload_key;
  std::string target;          // Target::str()
  std::string hardware;        // "cpu: <model name>, <n> threads" or "gpu: <name>, driver <v>"
  std::string config_json;     // Config::to_json()
  int64_t config_index = -1;
  std::string steps_json;      // Schedule::steps_json(): the replayable schedule
  MeasureResult result;
  double flop = 0;
  std::string te_version;      // TE_VERSION
  std::string to_json_line() const;                    // one line, no newline
  static Record from_json_line(const std::string& s);  // te::Error when malformed
  double gflops() const;                               // 0 on error
};

// Appends records to a file; every write is flushed and fsync'ed before returning.
class LogWriter {
 public:
  explicit LogWriter(const std::string& path);  // te::Error when it cannot be opened
  ~LogWriter();
  void append(const Record& record);
 private:
  int fd_ = -1;
  std::string path_;
};

struct LogContents {
  std::vector<Record> records;
  int skipped_lines = 0;  // malformed lines (a torn last line, or foreign text)
};
// A missing file is an empty log. Never throws on bad content: bad lines are counted.
LogContents read_log(const std::string& path);

// A config's JSON with its keys sorted, as a record read back from a log holds it (a fresh
// Config::to_json() lists the knobs in definition order): compare configs in this form.
// Text that is not a JSON object is returned as it is.
std::string canonical_config_json(const std::string& config_json);
// A config with this many valid records or more was re-measured by refine() (once tuned,
// then `rounds` = 2 more times by default).
constexpr int kConfirmedRecords = 3;
// The best valid record for workload_key on target, if any: the lowest mean cost; but once
// some configs have kConfirmedRecords records or more (refine() re-measured the leaders), only
// those compete, each with its median record (the lower middle one of an even count), and
// that record is returned. With `hardware` given (hardware_description's text) and a valid
// record of the workload measured on it, only the records measured on it compete: a log may
// hold several machines' records (the committed logs gain one per machine the project runs on),
// and their costs are not comparable. Without such a record, all compete.
std::optional<Record> best_record(const std::vector<Record>& records, const std::string& workload_key,
                                  const std::string& target, const std::string& hardware = "");
// hardware_description of the machine this process runs on for an llvm target text, "" for
// others (a GPU's name needs its driver: GPU logs are not filtered).
std::string this_machine(const std::string& target);
// The schedule of task from the best record of log; with none, the task's documented
// default (space mode config) is used and a note is printed once per workload.
Instance apply_history_best(const std::string& log_path, const Task& task);

// "cpu: Intel(R) Xeon(R) ..., 2 threads" — the machine records were measured on.
std::string hardware_description(const Target& target);

}  // namespace te::autotune
