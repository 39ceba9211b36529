// The parent's side of the runner: find tools/te_measure_runner, start it with posix_spawn in
// a process group of its own, read its one-line JSON result from a pipe with a deadline, and
// kill the whole group (SIGKILL) when the deadline passes. A child that dies by a signal or
// exits without a result is a runtime error naming the signal — never a crash of the tuner.
#include <dlfcn.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "autotune/measure_internal.h"

extern char** environ;

namespace te::autotune::measure_detail {
namespace {

constexpr const char* kRunnerName = "te_measure_runner";

bool is_executable(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode) && ::access(path.c_str(), X_OK) == 0;
}

std::string libte_directory() {
  Dl_info info{};
  if (dladdr(reinterpret_cast<const void*>(&find_runner), &info) == 0 || !info.dli_fname) return "";
  return std::filesystem::path(info.dli_fname).parent_path().string();
}

std::string read_tail(const std::string& path, size_t max_bytes) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return "";
  std::stringstream ss;
  ss << in.rdbuf();
  std::string s = ss.str();
  if (s.size() > max_bytes) s = "..." + s.substr(s.size() - max_bytes);
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
  return s;
}

std::string signal_name(int sig) {
  const char* abbrev = sigabbrev_np(sig);
  const char* text = strsignal(sig);
  return detail::cat(abbrev ? "SIG" + std::string(abbrev) : "signal " + std::to_string(sig), " (",
                     text ? text : "unknown", ")");
}

void kill_group(pid_t pid) {
  ::kill(-pid, SIGKILL);
  ::kill(pid, SIGKILL);  // in case setpgid did not happen yet
}

// Waits for pid, retrying on EINTR; returns its wait status.
int wait_child(pid_t pid) {
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0)
    if (errno != EINTR) return 0;
  return status;
}

}  // namespace

std::string find_runner() {
  if (const char* env = std::getenv("TE_MEASURE_RUNNER"); env && *env) {
    if (!is_executable(env))
      fail("measure: TE_MEASURE_RUNNER is '", env, "', which is not an executable file; point it at the ",
           kRunnerName, " program built with te (or unset it)");
    return env;
  }
  if (std::string dir = libte_directory(); !dir.empty()) {
    std::string candidate = (std::filesystem::path(dir) / kRunnerName).string();
    if (is_executable(candidate)) return candidate;
  }
  if (const char* path = std::getenv("PATH")) {
    std::stringstream ss(path);
    std::string dir;
    while (std::getline(ss, dir, ':')) {
      if (dir.empty()) continue;
      std::string candidate = (std::filesystem::path(dir) / kRunnerName).string();
      if (is_executable(candidate)) return candidate;
    }
  }
  fail("measure: cannot find the ", kRunnerName, " program (the child process that runs candidates): not next to ",
       "libte (", libte_directory(), "), not on PATH, and TE_MEASURE_RUNNER is not set; build the ", kRunnerName,
       " target or set TE_MEASURE_RUNNER to its path");
}

RunResult run_in_child(const std::string& runner, const RunRequest& request, const std::string& work_dir,
                       double timeout_s) {
  namespace fs = std::filesystem;
  std::string request_path = (fs::path(work_dir) / "request.json").string();
  std::string stderr_path = (fs::path(work_dir) / "runner_stderr.txt").string();
  {
    std::ofstream out(request_path, std::ios::trunc);
    out << request_to_json(request);
    if (!out) fail("measure: cannot write the runner request '", request_path, "'");
  }

  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) fail("measure: pipe() failed: ", std::strerror(errno));
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  // The result comes back on fd 3; stdout and stderr both go to a log file, so whatever the
  // kernel (or a library it loads) prints cannot corrupt the result line.
  posix_spawn_file_actions_adddup2(&actions, fds[1], 3);
  posix_spawn_file_actions_addopen(&actions, 1, stderr_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  posix_spawn_file_actions_adddup2(&actions, 1, 2);
  posix_spawnattr_t attr;
  posix_spawnattr_init(&attr);
  posix_spawnattr_setpgroup(&attr, 0);  // its own group, so a kill reaches every thread and child
  sigset_t default_signals;
  sigemptyset(&default_signals);
  sigaddset(&default_signals, SIGSEGV);
  sigaddset(&default_signals, SIGPIPE);
  posix_spawnattr_setsigdefault(&attr, &default_signals);
  sigset_t no_signals;  // a caller (e.g. Python) may block signals; the child must not
  sigemptyset(&no_signals);
  posix_spawnattr_setsigmask(&attr, &no_signals);
  posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK);
  std::vector<std::string> argv_strings{runner, request_path, "3"};
  std::vector<char*> argv;
  for (std::string& s : argv_strings) argv.push_back(s.data());
  argv.push_back(nullptr);
  pid_t pid = 0;
  int err = posix_spawn(&pid, runner.c_str(), &actions, &attr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  posix_spawnattr_destroy(&attr);
  ::close(fds[1]);
  if (err != 0) {
    ::close(fds[0]);
    fail("measure: cannot start the runner '", runner, "': ", std::strerror(err));
  }

  // Read the result until EOF or the deadline.
  using Clock = std::chrono::steady_clock;
  auto deadline = Clock::now() + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(timeout_s));
  std::string output;
  bool timed_out = false;
  char buffer[4096];
  for (;;) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
    if (left <= 0) {
      timed_out = true;
      break;
    }
    pollfd pfd{fds[0], POLLIN, 0};
    int ready = ::poll(&pfd, 1, int(std::min<int64_t>(left, 1000)));
    if (ready < 0 && errno == EINTR) continue;
    if (ready <= 0) continue;
    ssize_t n = ::read(fds[0], buffer, sizeof buffer);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;  // EOF: the child exited (or closed fd 3)
    output.append(buffer, size_t(n));
  }
  ::close(fds[0]);
  if (timed_out) kill_group(pid);
  int status = wait_child(pid);
  // Grandchildren (none expected) must not outlive the measurement either.
  ::kill(-pid, SIGKILL);

  RunResult result;
  if (timed_out) {
    result.error = ErrorKind::kTimeout;
    result.message = detail::cat("the candidate ran longer than the timeout of ", timeout_s, " s and was killed");
    return result;
  }
  std::string log = read_tail(stderr_path, 600);
  if (WIFSIGNALED(status)) {
    result.error = ErrorKind::kRuntime;
    result.message = detail::cat("the runner process died by signal ", signal_name(WTERMSIG(status)),
                                 log.empty() ? "" : ": ", log);
    return result;
  }
  size_t newline = output.find('\n');
  if (newline == std::string::npos || (WIFEXITED(status) && WEXITSTATUS(status) != 0)) {
    result.error = ErrorKind::kRuntime;
    result.message = detail::cat("the runner process exited with status ", WIFEXITED(status) ? WEXITSTATUS(status) : -1,
                                 " without a result", log.empty() ? "" : ": ", log);
    return result;
  }
  return result_from_json(output.substr(0, newline));
}

}  // namespace te::autotune::measure_detail
