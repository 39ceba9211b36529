// The parallel runtime: a persistent thread pool and a libgomp backend behind one entry
// point, te_parallel_for. Generated code calls it through the C ABI (thread_pool.h).
#include "codegen/runtime/thread_pool.h"

#include <dlfcn.h>
#include <unistd.h>

#include <atomic>
#include <condition_variable>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "te/base.h"

namespace te::runtime {
namespace {

thread_local bool t_inside_parallel = false;

inline void cpu_relax() {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#else
  std::this_thread::yield();
#endif
}

// Chunk i of n over [0, extent): static partition, sizes differ by at most one.
inline void chunk_range(int64_t extent, int n, int i, int64_t* begin, int64_t* end) {
  *begin = extent * i / n;
  *end = extent * (i + 1) / n;
}

// Workers wait for a new generation of work, spinning briefly first (a kernel with several
// parallel loops in a row then pays no wake-up latency), and then sleeping on a condvar.
class ThreadPool {
 public:
  explicit ThreadPool(int num_workers) {
    for (int i = 0; i < num_workers; ++i) workers_.emplace_back([this, i] { worker_loop(i + 1); });
  }
  ~ThreadPool() {
    {
      std::lock_guard<std::mutex> lock(mu_);
      stop_ = true;
      generation_.fetch_add(1, std::memory_order_release);
    }
    cv_.notify_all();
    for (auto& t : workers_) t.join();
  }
  int num_workers() const { return int(workers_.size()); }

  // Runs on num_tasks threads (the caller takes chunk 0); num_tasks <= num_workers() + 1.
  int32_t run(TeParallelBody body, void* closure, int64_t extent, int num_tasks) {
    body_ = body;
    closure_ = closure;
    extent_ = extent;
    num_tasks_ = num_tasks;
    status_.store(0, std::memory_order_relaxed);
    pending_.store(int(workers_.size()), std::memory_order_relaxed);
    {
      std::lock_guard<std::mutex> lock(mu_);
      generation_.fetch_add(1, std::memory_order_release);
    }
    cv_.notify_all();
    run_chunk(0);
    for (int spins = 0; pending_.load(std::memory_order_acquire) != 0; ++spins) {
      if (spins < 100000) cpu_relax();
      else std::this_thread::yield();
    }
    return status_.load(std::memory_order_relaxed);
  }

 private:
  void run_chunk(int i) {
    if (i >= num_tasks_) return;
    int64_t begin, end;
    chunk_range(extent_, num_tasks_, i, &begin, &end);
    if (begin >= end) return;
    int32_t rc = body_(begin, end, closure_);
    if (rc != 0) {
      int32_t expected = 0;
      status_.compare_exchange_strong(expected, rc);
    }
  }

  void worker_loop(int index) {
    t_inside_parallel = true;
    uint64_t seen = 0;
    while (true) {
      uint64_t now = generation_.load(std::memory_order_acquire);
      for (int spins = 0; now == seen && spins < 20000; ++spins) {
        cpu_relax();
        now = generation_.load(std::memory_order_acquire);
      }
      if (now == seen) {
        std::unique_lock<std::mutex> lock(mu_);
        cv_.wait(lock, [&] { return generation_.load(std::memory_order_acquire) != seen; });
        now = generation_.load(std::memory_order_acquire);
      }
      seen = now;
      if (stop_) return;
      run_chunk(index);
      pending_.fetch_sub(1, std::memory_order_acq_rel);
    }
  }

  std::vector<std::thread> workers_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::atomic<uint64_t> generation_{0};
  std::atomic<int> pending_{0};
  std::atomic<int32_t> status_{0};
  bool stop_ = false;
  // The current job; written before generation_ is bumped, read after it is seen.
  TeParallelBody body_ = nullptr;
  void* closure_ = nullptr;
  int64_t extent_ = 0;
  int num_tasks_ = 0;
};

std::mutex g_pool_mu;  // one job at a time; a concurrent caller runs serially instead
std::unique_ptr<ThreadPool> g_pool;
pid_t g_pool_pid = 0;  // the process whose threads g_pool holds

// ---------------------------------------------------------------- libgomp backend
using GompParallelFn = void (*)(void (*)(void*), void*, unsigned, unsigned);
using OmpIntFn = int (*)();
struct Gomp {
  GompParallelFn parallel = nullptr;
  OmpIntFn thread_num = nullptr;
  OmpIntFn num_threads = nullptr;
};
const Gomp* load_gomp() {
  static const Gomp gomp = [] {
    Gomp g;
    void* lib = dlopen("libgomp.so.1", RTLD_NOW | RTLD_GLOBAL);
    if (!lib) return g;
    g.parallel = reinterpret_cast<GompParallelFn>(dlsym(lib, "GOMP_parallel"));
    g.thread_num = reinterpret_cast<OmpIntFn>(dlsym(lib, "omp_get_thread_num"));
    g.num_threads = reinterpret_cast<OmpIntFn>(dlsym(lib, "omp_get_num_threads"));
    if (!g.parallel || !g.thread_num || !g.num_threads) g = Gomp{};
    return g;
  }();
  return gomp.parallel ? &gomp : nullptr;
}

struct GompJob {
  const Gomp* gomp;
  TeParallelBody body;
  void* closure;
  int64_t extent;
  std::atomic<int32_t> status{0};
};
void gomp_trampoline(void* data) {
  auto* job = static_cast<GompJob*>(data);
  bool was_inside = t_inside_parallel;
  t_inside_parallel = true;
  int64_t begin, end;
  chunk_range(job->extent, job->gomp->num_threads(), job->gomp->thread_num(), &begin, &end);
  if (begin < end) {
    int32_t rc = job->body(begin, end, job->closure);
    int32_t expected = 0;
    if (rc != 0) job->status.compare_exchange_strong(expected, rc);
  }
  t_inside_parallel = was_inside;
}

ParallelBackend initial_backend() {
  const char* env = std::getenv("TE_PARALLEL_BACKEND");
  if (env && std::strcmp(env, "gomp") == 0 && load_gomp()) return ParallelBackend::kGomp;
  return ParallelBackend::kPool;
}
std::atomic<ParallelBackend> g_backend{initial_backend()};

}  // namespace

ParallelBackend parallel_backend() { return g_backend.load(); }

void set_parallel_backend(ParallelBackend backend) {
  if (backend == ParallelBackend::kGomp && !load_gomp())
    fail("set_parallel_backend: libgomp.so.1 could not be loaded; use the thread pool backend");
  g_backend.store(backend);
}

int resolve_num_threads(int requested) {
  if (requested > 0) return requested;
  if (const char* env = std::getenv("TE_NUM_THREADS")) {
    int n = std::atoi(env);
    if (n > 0) return n;
  }
  unsigned hw = std::thread::hardware_concurrency();
  return hw > 0 ? int(hw) : 1;
}

}  // namespace te::runtime

extern "C" int32_t te_parallel_for(TeParallelBody body, void* closure, int64_t extent,
                                   int32_t num_threads) {
  using namespace te::runtime;
  if (extent <= 0) return 0;
  int threads = resolve_num_threads(num_threads);
  if (int64_t(threads) > extent) threads = int(extent);
  if (threads <= 1 || t_inside_parallel) return body(0, extent, closure);

  if (parallel_backend() == ParallelBackend::kGomp) {
    GompJob job{load_gomp(), body, closure, extent};
    job.gomp->parallel(gomp_trampoline, &job, unsigned(threads), 0);
    return job.status.load();
  }
  std::unique_lock<std::mutex> lock(g_pool_mu, std::try_to_lock);
  if (!lock.owns_lock()) return body(0, extent, closure);  // another caller holds the pool
  if (g_pool && g_pool_pid != getpid()) {
    // A forked child (the tuner's measuring process) inherits the pool object but none of
    // its threads: waiting on them would hang, and joining them is impossible. Leak it.
    (void)g_pool.release();
  }
  if (!g_pool || g_pool->num_workers() + 1 < threads) {
    g_pool.reset();
    g_pool = std::make_unique<ThreadPool>(threads - 1);
    g_pool_pid = getpid();
  }
  t_inside_parallel = true;
  int32_t rc = g_pool->run(body, closure, extent, threads);
  t_inside_parallel = false;
  return rc;
}

extern "C" void* te_runtime_alloc(int64_t nbytes) {
  if (nbytes <= 0) nbytes = 1;
  size_t rounded = (size_t(nbytes) + 63) / 64 * 64;  // aligned_alloc wants a multiple of 64
  return std::aligned_alloc(64, rounded);
}

extern "C" void te_runtime_free(void* ptr) { std::free(ptr); }
