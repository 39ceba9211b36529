// A C++ program that runs a tuned te kernel with nothing of te: the generated header, DLPack's
// dlpack.h and the shared library (which needs only libc/libm/libgomp). It calls the fused
// conv2d + bias + relu of ResNet-18's last 3x3 convolution (conv C12: 512 -> 512 channels on
// 7x7, stride 1, pad 1; one kernel, the epilogue applied in the conv's output tile) from the
// committed tuning log, checks it against a plain loop, then shows that wrong calls are
// refused with a message. Build and run (the test suite does this on every run,
// tests/python/test_export.py):
//
//   build/autotune export --log tuning_logs/conv2d_bias_relu_llvm.jsonl --ops conv2d_bias_relu
//       -o out/libresnet_fused.so   (one command line)
//   c++ -std=c++17 -O2 examples/export/consumer.cc -Iout -Lout -lresnet_fused -Wl,-rpath,$PWD/out -o consumer
//   ./consumer
#include <dlpack/dlpack.h>

#include <cmath>
#include <cstdio>
#include <cstring>
#include <random>
#include <vector>

#include "libresnet_fused.h"

#define KERNEL_CALL(args, n) conv2d_bias_relu_1_512_7_7_512_3_3_1_1(args, n)

namespace {

constexpr int64_t N = 1, C = 512, H = 7, W = 7, K = 512, R = 3, S = 3, kStride = 1, kPad = 1;
constexpr int64_t OH = (H + 2 * kPad - R) / kStride + 1, OW = (W + 2 * kPad - S) / kStride + 1;
constexpr int64_t kBlock = 16;  // te's CPU conv2d takes weights as OIHW16o

DLTensor view(std::vector<float>& data, std::vector<int64_t>& shape) {
  DLTensor t{};
  t.data = data.data();
  t.device = {kDLCPU, 0};
  t.ndim = static_cast<int32_t>(shape.size());
  t.dtype = {kDLFloat, 32, 1};
  t.shape = shape.data();
  t.strides = nullptr;  // compact row-major
  t.byte_offset = 0;
  return t;
}

bool refused(int32_t rc, const char* expect) {
  const char* msg = conv2d_bias_relu_1_512_7_7_512_3_3_1_1_last_error();
  bool ok = rc == TE_ERROR_ARGUMENT && std::strstr(msg, expect) != nullptr;
  std::printf("  %s (code %d): %s\n", ok ? "refused as expected" : "WRONG", rc, msg);
  return ok;
}

}  // namespace

int main() {
  if (const char* why = resnet_fused_load_error()) {
    std::fprintf(stderr, "this machine cannot run the library: %s\n", why);
    return 2;
  }
  std::mt19937 gen(0);
  std::uniform_real_distribution<float> uniform(-1.f, 1.f);
  std::vector<float> x(N * C * H * W), w(K * C * R * S), packed((K + kBlock - 1) / kBlock * kBlock * C * R * S, 0.f);
  std::vector<float> bias(K), out(N * K * OH * OW, NAN);  // NaN: an element the kernel skips shows up
  for (float& v : x) v = uniform(gen);
  for (float& v : w) v = uniform(gen);
  for (float& v : bias) v = uniform(gen);
  // packed[kb][c][r][s][kk] = w[kb*16 + kk][c][r][s]
  for (int64_t k = 0; k < K; ++k)
    for (int64_t c = 0; c < C; ++c)
      for (int64_t rs = 0; rs < R * S; ++rs)
        packed[(((k / kBlock) * C + c) * R * S + rs) * kBlock + k % kBlock] = w[(k * C + c) * R * S + rs];

  std::vector<int64_t> x_shape{N, C, H, W}, w_shape{(K + kBlock - 1) / kBlock, C, R, S, kBlock}, b_shape{K},
      o_shape{N, K, OH, OW};
  DLTensor tx = view(x, x_shape), tw = view(packed, w_shape), tb = view(bias, b_shape), to = view(out, o_shape);
  DLTensor* args[] = {&tx, &tw, &tb, &to};
  int32_t rc = KERNEL_CALL(args, conv2d_bias_relu_1_512_7_7_512_3_3_1_1_NUM_ARGS);
  if (rc != TE_OK) {
    std::fprintf(stderr, "conv2d_bias_relu failed (%d): %s\n", rc, resnet_fused_last_error());
    return 1;
  }
  double max_err = 0, max_ref = 1;
  for (int64_t k = 0; k < K; ++k)
    for (int64_t y = 0; y < OH; ++y)
      for (int64_t xx = 0; xx < OW; ++xx) {
        double acc = 0;
        for (int64_t c = 0; c < C; ++c)
          for (int64_t r = 0; r < R; ++r)
            for (int64_t s = 0; s < S; ++s) {
              int64_t iy = y * kStride + r - kPad, ix = xx * kStride + s - kPad;
              if (iy >= 0 && iy < H && ix >= 0 && ix < W)
                acc += double(x[(c * H + iy) * W + ix]) * w[((k * C + c) * R + r) * S + s];
            }
        acc = std::fmax(acc + bias[k], 0.0);  // the fused epilogue: + bias, relu
        double got = out[(k * OH + y) * OW + xx];
        max_err = std::isnan(got) ? INFINITY : std::fmax(max_err, std::fabs(got - acc));
        max_ref = std::fmax(max_ref, std::fabs(acc));
      }
  bool ok = max_err / max_ref < 1e-4;
  std::printf("conv2d_bias_relu_1_512_7_7_512_3_3_1_1: max relative error %.2e %s\n", max_err / max_ref, ok ? "ok" : "WRONG");

  // Wrong calls return TE_ERROR_ARGUMENT with a message naming the argument; nothing crashes.
  std::vector<int64_t> short_shape{N, C, H, W - 1};
  DLTensor bad_shape = view(x, short_shape);
  DLTensor* wrong_shape[] = {&bad_shape, &tw, &tb, &to};
  ok &= refused(KERNEL_CALL(wrong_shape, 4), "expected shape [1, 512, 7, 7], got [1, 512, 7, 6]");
  DLTensor* null_arg[] = {&tx, nullptr, &tb, &to};
  ok &= refused(KERNEL_CALL(null_arg, 4), "null DLTensor pointer");
  DLTensor on_gpu = tx;
  on_gpu.device = {kDLCUDA, 0};
  DLTensor* gpu_arg[] = {&on_gpu, &tw, &tb, &to};
  ok &= refused(KERNEL_CALL(gpu_arg, 4), "expected a CPU array");
  ok &= refused(KERNEL_CALL(args, 3), "expected 4 arguments, got 3");
  return ok ? 0 : 1;
}
