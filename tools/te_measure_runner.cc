// te_measure_runner — the child process in which the autotuner runs one candidate kernel, so
// that a crash, a hang or a stray write cannot take the tuner down. Started by
// te::autotune::Measurer (src/autotune/measure_spawn.cc), never by hand:
//   te_measure_runner <request.json> <result fd>
// It writes one JSON line (error kind, message, costs) to <result fd>; the protocol and the
// work are in src/autotune/measure_child.cc.
#include <cstdio>
#include <cstdlib>
#include <string>

#include "autotune/measure_internal.h"

int main(int argc, char** argv) {
  if (argc != 3) {
    std::fprintf(stderr,
                 "usage: te_measure_runner <request.json> <result fd>\n"
                 "The autotuner starts this program to run one candidate kernel in isolation.\n");
    return 2;
  }
  int fd = std::atoi(argv[2]);
  if (fd < 0) {
    std::fprintf(stderr, "te_measure_runner: bad result fd '%s'\n", argv[2]);
    return 2;
  }
  return te::autotune::measure_detail::run_child(argv[1], fd);
}
