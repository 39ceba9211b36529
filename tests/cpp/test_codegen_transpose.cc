// The LLVM backend's transposing loops (codegen_llvm_transpose.cc): a serial loop whose store
// is contiguous along the lanes and whose load walks the lanes a row apart (consecutive
// iterations reading consecutive elements) is emitted as row loads + in-register transposes.
// Each case checks every output element (outputs poisoned first) and that no gather remains
// where the transpose applies; the loops it must leave alone are checked to still be right.
#include <cstring>

#include "te/ops.h"
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

// What the loop must become: all tiles, tiles then a tail of iterations as written, or as written.
enum class Expect { kTransposed, kTransposedWithTail, kAsWritten };

template <typename T>
void check_transpose(const TransposeCase& c, int outer, Expect expect) {
  const int in_size = outer * (c.lanes * c.stride + c.extent), out_size = outer * (c.extent * c.out_step + c.lanes);
  Module m = transpose_module(c, outer);
  const std::string ll = m.get_source("ll");
  if (expect == Expect::kTransposed) {
    EXPECT_EQ(ll.find("masked.gather"), std::string::npos) << "a transposing loop still gathers";
    EXPECT_NE(ll.find("shufflevector"), std::string::npos);
  } else if (expect == Expect::kTransposedWithTail) {
    EXPECT_NE(ll.find("shufflevector"), std::string::npos) << "the full blocks were expected transposed";
    EXPECT_NE(ll.find("masked.gather"), std::string::npos) << "the tail iterations were expected as written";
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
  check_transpose<float>({DataType::float32(), 64, 32, 64, 32}, 3, Expect::kTransposed);
  // One 16-lane block, a longer row, an output row longer than the lanes.
  check_transpose<float>({DataType::float32(), 32, 16, 100, 40}, 2, Expect::kTransposed);
}

TEST(CodegenTranspose, LayoutChangeToBlockedChannelsAndBack) {
  // NCHW -> NCHW16c: lanes are 16 channels, H*W = 49 apart; k walks w (store step 16).
  check_transpose<float>({DataType::float32(), 48, 16, 49, 16}, 4, Expect::kTransposed);
  // NCHW16c -> NCHW: lanes are 16 consecutive w of one channel (16 apart in the input), k walks
  // the 16 channels of a block (store step H*W).
  check_transpose<float>({DataType::float32(), 16, 16, 16, 56}, 2, Expect::kTransposed);
}

TEST(CodegenTranspose, LanesOfHalfOrQuarterTilesUseNarrowerTiles) {
  // NCHW16c -> NCHW rows of 56 and 28 pixels: 8- and 4-lane tiles (7 of 8, 7 of 4).
  check_transpose<float>({DataType::float32(), 16, 56, 16, 3136}, 2, Expect::kTransposed);
  check_transpose<float>({DataType::float32(), 16, 28, 16, 784}, 3, Expect::kTransposed);
  check_transpose<double>({DataType::float64(), 8, 12, 8, 144}, 2, Expect::kTransposed);
}

// nchwc_to_nchw under schedule_layout_transform: the 16 channels of a block a serial loop
// around a vector of the plane's pixels (h and w fused), so planes of a multiple of 4 pixels are
// register transposes (it was a scalar loop: the int64 cast of the vectorized pixel kept the
// store from being a ramp; and 14-pixel rows have no 4-lane tile, a 196-pixel plane has 28);
// a 7x7 plane keeps the strided form. Every element is checked.
TEST(CodegenTranspose, UnpackToNchwIsTransposedByItsDefaultSchedule) {
  for (auto [height, width] : std::vector<std::pair<int64_t, int64_t>>{{3, 112}, {3, 56}, {3, 28}, {14, 14}, {7, 7}}) {
    const int64_t channels = 32;
    Tensor x = placeholder({1, channels / 16, height, width, 16}, DataType::float32(), "X");
    Tensor t = ops::nchwc_to_nchw(x);
    Module m = build(ops::schedule_layout_transform(t), {x, t}, "llvm", "to_nchw");
    const std::string ll = m.get_source("ll");
    if ((height * width) % 4 == 0)
      EXPECT_NE(ll.find("shufflevector"), std::string::npos) << height << "x" << width << " was not transposed";
    EXPECT_EQ(ll.find("masked.scatter"), std::string::npos) << height << "x" << width;
    NDArray in = random_array({1, channels / 16, height, width, 16}, DataType::float32(), 5);
    NDArray out = NDArray::empty({1, channels, height, width});
    out.fill_poison();
    m({in, out});
    for (int64_t c = 0; c < channels; ++c)
      for (int64_t p = 0; p < height * width; ++p)
        ASSERT_EQ(out.data_as<float>()[c * height * width + p],
                  in.data_as<float>()[(c / 16) * height * width * 16 + p * 16 + c % 16])
            << height << "x" << width << " channel " << c << " pixel " << p;
  }
}

TEST(CodegenTranspose, OtherElementTypes) {
  check_transpose<int32_t>({DataType::int32(), 32, 32, 33, 32}, 2, Expect::kTransposed);
  check_transpose<double>({DataType::float64(), 16, 16, 20, 16}, 2, Expect::kTransposed);
}

TEST(CodegenTranspose, LoopsNotOfTheFormAreEmittedAsWritten) {
  // Lanes that are not a multiple of 4 (the narrowest tile), a stride below the block (rows
  // would overlap less than a block), fewer iterations than a block: the loop stays as it was
  // and is right.
  check_transpose<float>({DataType::float32(), 64, 14, 64, 14}, 2, Expect::kAsWritten);
  check_transpose<float>({DataType::float32(), 32, 16, 5, 16}, 2, Expect::kAsWritten);
  check_transpose<float>({DataType::float32(), 7, 16, 64, 16}, 1, Expect::kAsWritten);
}

TEST(CodegenTranspose, AnExtentWithATailTransposesTheFullBlocks) {
  // 60 iterations: 3 tiles of 16 and 12 left on AVX-512, 7 tiles of 8 and 4 left on AVX2 (a row
  // of 56 pixels in NCHW -> NCHW16c is the case that matters).
  check_transpose<float>({DataType::float32(), 60, 32, 64, 32}, 2, Expect::kTransposedWithTail);
  check_transpose<float>({DataType::float32(), 60, 16, 3136, 16}, 3, Expect::kTransposedWithTail);
}

TEST(CodegenTranspose, LayoutTransformWithInt64IndicesOfInt32Parts) {
  // nchw_to_nchwc's store index is `fused*50176 + int64(k*896) + int64(l*16)`: int32 parts under
  // int64 casts, which the step analysis must see through (it did not: every pixel gathered).
  Tensor x = placeholder({1, 32, 56, 56}, DataType::float32(), "X");
  Tensor t = ops::nchw_to_nchwc(x, 16);
  Module m = build(ops::schedule_layout_transform(t), {x, t}, "llvm", "to_nchwc");
  const std::string ll = m.get_source("ll");
  EXPECT_TRUE(ll.find("load <16 x float>") != std::string::npos || ll.find("load <8 x float>") != std::string::npos)
      << "no contiguous row loads: the transform was not transposed in registers";
  NDArray in = random_array({1, 32, 56, 56}, DataType::float32(), 7), out = NDArray::empty({1, 2, 56, 56, 16});
  out.fill_poison();
  m({in, out});
  for (int c = 0; c < 32; ++c)
    for (int p = 0; p < 56 * 56; ++p)
      ASSERT_EQ(out.data_as<float>()[(c / 16) * 56 * 56 * 16 + p * 16 + c % 16], in.data_as<float>()[c * 56 * 56 + p])
          << "channel " << c << " pixel " << p;
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
