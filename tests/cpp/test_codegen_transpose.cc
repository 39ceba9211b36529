// The LLVM backend's transposing loops (codegen_llvm_transpose.cc): a serial loop whose store
// is contiguous along the lanes and whose load walks the lanes a row apart (consecutive
// iterations reading consecutive elements) is emitted as row loads + in-register transposes.
// Each case checks every output element (outputs poisoned first) and that no gather remains
// where the transpose applies; the loops it must leave alone are checked to still be right.
#include <cstring>

#include "test_codegen_util.h"

namespace te::testing {
namespace {

// out[k * out_step + l] = in[l * stride + k] for k in [0, extent), l in [0, lanes): one loop
// over k of one store of `lanes` lanes — the form a vectorized transpose lowers to (packing
// B^T into panels: out_step = lanes; NCHW -> NCHW16c: out_step 16).
struct TransposeCase {
  DataType dtype;
  int extent, lanes, stride, out_step;
};

Module transpose_module(const TransposeCase& c, int outer = 1) {
  const int in_size = outer * (c.lanes * c.stride + c.extent), out_size = outer * (c.extent * c.out_step + c.lanes);
  auto In = buffer_arg("In", c.dtype, {Expr(in_size)});
  auto Out = buffer_arg("Out", c.dtype, {Expr(out_size)});
  Var o("o"), k("k");
  // An outer loop makes the bases depend on another variable too, as in real kernels.
  Expr in_base = o * (c.lanes * c.stride + c.extent) + k;
  Expr out_base = o * (c.extent * c.out_step + c.lanes) + k * c.out_step;
  Stmt body = store(Out, load(In, ramp(in_base, c.lanes, c.stride)), ramp(out_base, c.lanes));
  return compile(make_func("transpose", {In, Out}, loop(o, outer, loop(k, c.extent, body))));
}

template <typename T>
void check_transpose(const TransposeCase& c, int outer, bool expect_transposed) {
  const int in_size = outer * (c.lanes * c.stride + c.extent), out_size = outer * (c.extent * c.out_step + c.lanes);
  Module m = transpose_module(c, outer);
  const std::string ll = m.get_source("ll");
  if (expect_transposed) {
    EXPECT_EQ(ll.find("masked.gather"), std::string::npos) << "a transposing loop still gathers";
    EXPECT_NE(ll.find("shufflevector"), std::string::npos);
  } else {
    EXPECT_NE(ll.find("masked.gather"), std::string::npos) << "the loop was expected to stay as written";
  }
  NDArray in = random_array({in_size}, c.dtype, 11), out = NDArray::empty({out_size}, c.dtype);
  out.fill_poison();
  NDArray expected = NDArray::empty({out_size}, c.dtype);
  expected.fill_poison();  // the elements no iteration writes keep the poison
  for (int o = 0; o < outer; ++o)
    for (int k = 0; k < c.extent; ++k)
      for (int l = 0; l < c.lanes; ++l)
        expected.data_as<T>()[o * (c.extent * c.out_step + c.lanes) + k * c.out_step + l] =
            in.data_as<T>()[o * (c.lanes * c.stride + c.extent) + l * c.stride + k];
  m({in, out});
  for (int i = 0; i < out_size; ++i)
    if (std::memcmp(&out.data_as<T>()[i], &expected.data_as<T>()[i], sizeof(T)) != 0)
      FAIL() << "element " << i << " differs";
}

TEST(CodegenTranspose, PanelPackOfBTransposedIsRowLoadsAndShuffles) {
  // batch_matmul NT's packing: 32-column panels of B^T, B rows 64 apart (attention's k = 64).
  check_transpose<float>({DataType::float32(), 64, 32, 64, 32}, 3, true);
  // One 16-lane block, a longer row, an output row longer than the lanes.
  check_transpose<float>({DataType::float32(), 32, 16, 100, 40}, 2, true);
}

TEST(CodegenTranspose, LayoutChangeToBlockedChannelsAndBack) {
  // NCHW -> NCHW16c: lanes are 16 channels, H*W = 49 apart; k walks w (store step 16).
  check_transpose<float>({DataType::float32(), 48, 16, 49, 16}, 4, true);
  // NCHW16c -> NCHW: lanes are 16 consecutive w of one channel (16 apart in the input), k walks
  // the 16 channels of a block (store step H*W).
  check_transpose<float>({DataType::float32(), 16, 16, 16, 56}, 2, true);
}

TEST(CodegenTranspose, OtherElementTypes) {
  check_transpose<int32_t>({DataType::int32(), 32, 32, 33, 32}, 2, true);
  check_transpose<double>({DataType::float64(), 16, 16, 20, 16}, 2, true);
}

TEST(CodegenTranspose, LoopsNotOfTheFormAreEmittedAsWritten) {
  // An extent that is not a multiple of the block, lanes that are not, a stride below the
  // block (rows would overlap less than a block): the loop stays as it was and is still right.
  check_transpose<float>({DataType::float32(), 40, 32, 64, 32}, 2, false);
  check_transpose<float>({DataType::float32(), 64, 12, 64, 12}, 2, false);
  check_transpose<float>({DataType::float32(), 32, 16, 5, 16}, 2, false);
  check_transpose<float>({DataType::float32(), 7, 16, 64, 16}, 1, false);
}

TEST(CodegenTranspose, SameBufferAndNonUnitLoadStepAreNotTransposed) {
  const int n = 4096;
  auto A = buffer_arg("A", DataType::float32(), {Expr(n)});
  auto B = buffer_arg("B", DataType::float32(), {Expr(n)});
  Var k("k");
  // In place: A[k*16 + l] = A[2048 + l*64 + k] reads what earlier iterations may have written
  // in a different order, so it must keep the loop's order.
  Stmt in_place = store(A, load(A, ramp(Expr(2048) + k, 16, 64)), ramp(k * 16, 16));
  Module m = compile(make_func("in_place", {A}, loop(k, 32, in_place)));
  NDArray a = random_array({n}, DataType::float32(), 3), ref = random_array({n}, DataType::float32(), 3);
  for (int kk = 0; kk < 32; ++kk)
    for (int l = 0; l < 16; ++l) ref.data_as<float>()[kk * 16 + l] = ref.data_as<float>()[2048 + l * 64 + kk];
  m({a});
  for (int i = 0; i < n; ++i) ASSERT_EQ(a.data_as<float>()[i], ref.data_as<float>()[i]) << i;
  // Consecutive iterations two elements apart in the load: not one row of a tile.
  Stmt skip = store(B, load(A, ramp(k * 2, 16, 64)), ramp(k * 16, 16));
  Module m2 = compile(make_func("step2", {A, B}, loop(k, 32, skip)));
  NDArray b = NDArray::empty({n});
  b.fill_poison();
  m2({a, b});
  for (int kk = 0; kk < 32; ++kk)
    for (int l = 0; l < 16; ++l) ASSERT_EQ(b.data_as<float>()[kk * 16 + l], a.data_as<float>()[kk * 2 + l * 64]);
}

}  // namespace
}  // namespace te::testing
