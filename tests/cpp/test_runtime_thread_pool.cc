// The parallel runtime on its own: te_parallel_for covers [0, extent) exactly once with
// both backends, propagates a failing chunk's status, and runs nested calls serially.
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <vector>

#include "codegen/runtime/thread_pool.h"
#include "test_util.h"

namespace te::testing {
namespace {

struct Counts {
  std::vector<std::atomic<int>> hits;
  explicit Counts(int64_t n) : hits(size_t(n)) {}
};

int32_t count_body(int64_t begin, int64_t end, void* closure) {
  auto* c = static_cast<Counts*>(closure);
  for (int64_t i = begin; i < end; ++i) c->hits[size_t(i)].fetch_add(1);
  return 0;
}

int32_t failing_body(int64_t begin, int64_t end, void*) { return begin == 0 ? 0 : 7; }

int32_t nested_body(int64_t begin, int64_t end, void* closure) {
  for (int64_t i = begin; i < end; ++i)
    if (te_parallel_for(count_body, closure, 10, 0) != 0) return 1;
  return 0;
}

class ThreadPoolTest : public ::testing::TestWithParam<runtime::ParallelBackend> {
 protected:
  void SetUp() override { runtime::set_parallel_backend(GetParam()); }
  void TearDown() override { runtime::set_parallel_backend(runtime::ParallelBackend::kPool); }
};

TEST_P(ThreadPoolTest, CoversEveryIterationOnce) {
  for (int64_t extent : {1, 2, 3, 17, 1000}) {
    for (int threads : {0, 1, 2, 3, 8}) {
      Counts c(extent);
      ASSERT_EQ(te_parallel_for(count_body, &c, extent, threads), 0);
      for (int64_t i = 0; i < extent; ++i) ASSERT_EQ(c.hits[size_t(i)].load(), 1) << extent << " " << threads << " " << i;
    }
  }
  EXPECT_EQ(te_parallel_for(count_body, nullptr, 0, 2), 0);
}

TEST_P(ThreadPoolTest, PropagatesFailureStatus) { EXPECT_EQ(te_parallel_for(failing_body, nullptr, 100, 2), 7); }

TEST_P(ThreadPoolTest, NestedCallsRunSerially) {
  Counts c(10);
  ASSERT_EQ(te_parallel_for(nested_body, &c, 4, 2), 0);
  for (auto& h : c.hits) EXPECT_EQ(h.load(), 4);
}

INSTANTIATE_TEST_SUITE_P(Backends, ThreadPoolTest,
                         ::testing::Values(runtime::ParallelBackend::kPool, runtime::ParallelBackend::kGomp),
                         [](const auto& info) { return info.param == runtime::ParallelBackend::kPool ? "pool" : "gomp"; });

// The tuner measures kernels in forked children: a child must get working threads, not the
// parent's pool object whose threads it does not have (that would hang).
TEST(ThreadPool, WorksInAForkedChild) {
  Counts warm(100);
  ASSERT_EQ(te_parallel_for(count_body, &warm, 100, 2), 0);  // the parent's pool exists now
  pid_t pid = fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    alarm(10);  // a hang becomes a failure
    Counts c(1000);
    int32_t rc = te_parallel_for(count_body, &c, 1000, 2);
    for (auto& h : c.hits)
      if (h.load() != 1) _exit(2);
    _exit(rc == 0 ? 0 : 1);
  }
  int status = 0;
  ASSERT_EQ(waitpid(pid, &status, 0), pid);
  ASSERT_TRUE(WIFEXITED(status)) << "child killed by signal " << (WIFSIGNALED(status) ? WTERMSIG(status) : 0);
  EXPECT_EQ(WEXITSTATUS(status), 0);
}

TEST(ThreadPool, ResolveNumThreads) {
  EXPECT_EQ(runtime::resolve_num_threads(3), 3);
  EXPECT_GE(runtime::resolve_num_threads(0), 1);
  void* p = te_runtime_alloc(1000);
  ASSERT_NE(p, nullptr);
  EXPECT_EQ(reinterpret_cast<uintptr_t>(p) % 64, 0u);
  te_runtime_free(p);
}

}  // namespace
}  // namespace te::testing
