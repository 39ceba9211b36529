// Fuzzes the tuning-log reader (src/autotune/log.cc): read_log over arbitrary bytes as a
// file, and Record::from_json_line on each line. A log is untrusted data: every line is a
// record or a skipped line, never a crash; a record that reads back writes a line that
// reads back to the same record (the resume path rewrites logs this way).
#include <sys/mman.h>
#include <unistd.h>

#include "fuzz_common.h"
#include "te/autotune/log.h"
#include "te/autotune/task.h"
#include "te/schedule.h"

using namespace te;
using namespace te::autotune;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string text = fuzz::as_string(data, size);

  // The whole input as a log file: the reader counts bad lines, it never throws for content.
  int fd = ::memfd_create("fuzz_log", MFD_CLOEXEC);
  if (fd >= 0) {
    size_t done = 0;
    while (done < size) {
      ssize_t n = ::write(fd, data + done, size - done);
      if (n <= 0) break;
      done += size_t(n);
    }
    std::string path = "/proc/self/fd/" + std::to_string(fd);
    LogContents contents;
    fuzz::require(fuzz::accepts([&] { contents = read_log(path); }), "read_log threw on file content");
    ::close(fd);
  }

  // Each line as a record, with the round trip and the fields other code parses further.
  size_t start = 0;
  while (start <= text.size()) {
    size_t end = text.find('\n', start);
    if (end == std::string::npos) end = text.size();
    std::string line = text.substr(start, end - start);
    start = end + 1;
    Record r;
    if (!fuzz::accepts([&] { r = Record::from_json_line(line); })) continue;
    Record back;
    fuzz::require(fuzz::accepts([&] { back = Record::from_json_line(r.to_json_line()); }),
                  "a record read from a log does not read back after writing");
    fuzz::require(back.workload_key == r.workload_key && back.target == r.target &&
                      back.steps_json == r.steps_json && back.config_json == r.config_json &&
                      back.result.error == r.result.error && back.result.costs.size() == r.result.costs.size(),
                  "a record changed in a write/read round trip");
    fuzz::accepts([&] { Schedule::steps_from_json(r.steps_json); });
    fuzz::accepts([&] { Target::parse(r.target); });
    parse_template_key(r.workload_key);  // nullopt or a key; never throws
  }
  return 0;
}
