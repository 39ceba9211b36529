// Tensor-expression construction: placeholder, compute, reductions, reducers, errors,
// post_dfs_order; and the NDArray / DLPack dtype basics.
#include <cmath>
#include <cstring>
#include <limits>

#include "test_util.h"

namespace te {
namespace {

using testing::random_array;

TEST(TeOperation, PlaceholderShapeDtypeName) {
  Var n = var("n");
  Tensor A = placeholder({n, 512}, DataType::float16(), "A");
  EXPECT_EQ(A.name(), "A");
  EXPECT_EQ(A.dtype(), DataType::float16());
  ASSERT_EQ(A.ndim(), 2);
  EXPECT_TRUE(A.shape()[0].same_as(n));
  EXPECT_TRUE(is_const_int(A.shape()[1], 512));
  ASSERT_NE(A.op().as<PlaceholderOpNode>(), nullptr);
  EXPECT_TRUE(A.op()->input_tensors().empty());
  EXPECT_EQ(A.op()->num_outputs(), 1);
}

TEST(TeOperation, PlaceholderErrors) {
  EXPECT_TE_ERROR(placeholder({4, -3}, DataType::float32(), "A"), "placeholder A", "dimension 1", "-3");
  EXPECT_TE_ERROR(placeholder({Expr(2.5f)}, DataType::float32(), "B"), "placeholder B", "integer");
  EXPECT_TE_ERROR(placeholder({4}, DataType::handle(), "H"), "placeholder H", "dtype");
}

TEST(TeOperation, ComputeAxesNamesAndShape) {
  Tensor A = placeholder({7, 13}, DataType::float32(), "A");
  Tensor B = compute({7, 13}, [&](const std::vector<Var>& i) { return A(i[0], i[1]) * 2.0f; }, "B");
  const auto* op = B.op().as<ComputeOpNode>();
  ASSERT_NE(op, nullptr);
  ASSERT_EQ(op->axis.size(), 2u);
  EXPECT_EQ(op->axis[0].var().name(), "i");
  EXPECT_EQ(op->axis[1].var().name(), "j");
  EXPECT_EQ(op->axis[0].type(), IterVarType::kDataPar);
  EXPECT_TRUE(op->reduce_axis.empty());
  EXPECT_TRUE(is_const_int(B.shape()[0], 7));
  EXPECT_TRUE(is_const_int(B.shape()[1], 13));
  EXPECT_EQ(B.dtype(), DataType::float32());

  std::vector<Expr> shape7(7, Expr(2));
  Tensor C = compute(shape7, [](const std::vector<Var>& i) { return i[6] + i[0]; }, "C");
  const auto* op7 = C.op().as<ComputeOpNode>();
  EXPECT_EQ(op7->axis[5].var().name(), "n");
  EXPECT_EQ(op7->axis[6].var().name(), "ax6");
  EXPECT_EQ(C.dtype(), DataType::int32());
}

TEST(TeOperation, InputTensorsDistinctInOrder) {
  Tensor A = placeholder({8}, DataType::float32(), "A");
  Tensor B = placeholder({8}, DataType::float32(), "B");
  Tensor C = compute({8}, [&](const std::vector<Var>& i) { return B(i[0]) + A(i[0]) * B(7 - i[0]) + A(0); }, "C");
  std::vector<Tensor> inputs = C.op()->input_tensors();
  ASSERT_EQ(inputs.size(), 2u);
  EXPECT_TRUE(inputs[0] == B || inputs[1] == B);
  EXPECT_TRUE(inputs[0] == A || inputs[1] == A);
  EXPECT_NE(inputs[0], inputs[1]);
}

TEST(TeOperation, SumFillsReduceAxis) {
  Tensor A = placeholder({37, 23}, DataType::float32(), "A");
  IterVar k = reduce_axis(Range(0, 23), "k");
  EXPECT_EQ(k.type(), IterVarType::kCommReduce);
  Tensor S = compute({37}, [&](const std::vector<Var>& i) { return sum(A(i[0], k), {k}); }, "S");
  const auto* op = S.op().as<ComputeOpNode>();
  ASSERT_EQ(op->reduce_axis.size(), 1u);
  EXPECT_TRUE(op->reduce_axis[0].same_as(k));
  const auto* r = op->body[0].as<ReduceNode>();
  ASSERT_NE(r, nullptr);
  EXPECT_TRUE(is_zero(r->combiner->identity[0]));
}

TEST(TeOperation, BuiltinReducerIdentities) {
  Tensor A = placeholder({4, 5}, DataType::int32(), "A");
  IterVar k = reduce_axis(Range(0, 5), "k");
  auto identity_of = [](const Expr& e) { return e.as<ReduceNode>()->combiner->identity[0]; };
  Expr mx = te::max(A(0, k), std::vector<IterVar>{k});
  Expr mn = te::min(A(0, k), std::vector<IterVar>{k});
  Expr pr = prod(A(0, k), {k});
  ASSERT_NE(as_const_int(identity_of(mx)), nullptr);
  ASSERT_NE(as_const_int(identity_of(mn)), nullptr);
  EXPECT_EQ(*as_const_int(identity_of(mx)), std::numeric_limits<int32_t>::min());
  EXPECT_EQ(*as_const_int(identity_of(mn)), std::numeric_limits<int32_t>::max());
  EXPECT_TRUE(is_one(identity_of(pr)));
}

TEST(TeOperation, NestedReductionIsAnError) {
  Tensor A = placeholder({6, 9}, DataType::float32(), "A");
  IterVar k = reduce_axis(Range(0, 9), "k");
  EXPECT_TE_ERROR(compute({6}, [&](const std::vector<Var>& i) { return sum(A(i[0], k), {k}) + 1.0f; }, "C"),
                  "reduction must be the top-level expression of compute C");
  IterVar r = reduce_axis(Range(0, 6), "r");
  EXPECT_TE_ERROR(compute({6}, [&](const std::vector<Var>& i) { return sum(sum(A(r, k), {k}), {r}); }, "D"),
                  "reduction must be the top-level expression of compute D");
}

TEST(TeOperation, ReductionArgumentErrors) {
  Tensor A = placeholder({6, 9}, DataType::float32(), "A");
  IterVar k = reduce_axis(Range(0, 9), "k");
  IterVar t = thread_axis("threadIdx.x", Range(0, 9));
  EXPECT_TE_ERROR(sum(A(0, t), {t}), "sum", "threadIdx.x", "not a reduce axis");
  EXPECT_TE_ERROR(sum(A(0, k), {}), "sum", "no reduction axis");
  EXPECT_TE_ERROR(sum(A(0, k), {k}, Expr(1.0f)), "sum", "condition");
  EXPECT_TE_ERROR(reduce_axis(Range(0, -2), "bad"), "reduce_axis bad", "negative");
}

TEST(TeOperation, ThreadAxisTags) {
  for (const char* tag : {"blockIdx.x", "blockIdx.y", "blockIdx.z", "threadIdx.x", "threadIdx.y", "threadIdx.z", "vthread"}) {
    IterVar t = thread_axis(tag);
    EXPECT_EQ(t.type(), IterVarType::kThreadIndex);
    EXPECT_EQ(t->thread_tag, tag);
  }
  EXPECT_TE_ERROR(thread_axis("threadIdx.w"), "threadIdx.w", "expected one of");
  EXPECT_TE_ERROR(thread_axis("blockidx.x"), "blockidx.x");
}

// argmax over (index, value): TVM's comm_reducer test case.
std::vector<Tensor> make_argmax(const Tensor& A, const IterVar& k) {
  Reducer argmax(
      [](const std::vector<Expr>& lhs, const std::vector<Expr>& rhs) {
        Expr take_rhs = rhs[1] > lhs[1];
        return std::vector<Expr>{select(take_rhs, rhs[0], lhs[0]), select(take_rhs, rhs[1], lhs[1])};
      },
      [](const std::vector<DataType>& t) { return std::vector<Expr>{make_const(t[0], -1), min_value(t[1])}; },
      "argmax");
  return compute_multi(
      {A.shape()[0]},
      [&](const std::vector<Var>& i) { return argmax({Expr(k), A(i[0], k)}, {k}); }, "argmax");
}

TEST(TeOperation, MultiValuedReducer) {
  Tensor A = placeholder({5, 11}, DataType::float32(), "A");
  IterVar k = reduce_axis(Range(0, 11), "k");
  std::vector<Tensor> outs = make_argmax(A, k);
  ASSERT_EQ(outs.size(), 2u);
  EXPECT_EQ(outs[0].dtype(), DataType::int32());
  EXPECT_EQ(outs[1].dtype(), DataType::float32());
  EXPECT_TRUE(outs[0].op().same_as(outs[1].op()));
  EXPECT_EQ(outs[1]->value_index, 1);
  const auto* op = outs[0].op().as<ComputeOpNode>();
  ASSERT_EQ(op->reduce_axis.size(), 1u);
  EXPECT_EQ(op->body[1].as<ReduceNode>()->value_index, 1);
}

TEST(TeOperation, ReducerErrors) {
  Tensor A = placeholder({5, 11}, DataType::float32(), "A");
  IterVar k = reduce_axis(Range(0, 11), "k");
  Reducer wrong_count([](const std::vector<Expr>& l, const std::vector<Expr>& r) { return std::vector<Expr>{l[0] + r[0]}; },
                      [](const std::vector<DataType>& t) { return std::vector<Expr>{make_zero(t[0]), make_zero(t[1])}; },
                      "pairsum");
  EXPECT_TE_ERROR(wrong_count({A(0, k), A(1, k)}, {k}), "reducer pairsum", "1 values for 2 sources");
  Reducer wrong_type([](const std::vector<Expr>& l, const std::vector<Expr>& r) { return std::vector<Expr>{cast(DataType::int32(), l[0])}; },
                     [](const std::vector<DataType>& t) { return std::vector<Expr>{make_zero(t[0])}; }, "badtype");
  EXPECT_TE_ERROR(wrong_type(A(0, k), {k}), "reducer badtype", "float32");
}

TEST(TeOperation, MultiOutputMustShareTheReduction) {
  Tensor A = placeholder({5, 11}, DataType::float32(), "A");
  IterVar k = reduce_axis(Range(0, 11), "k");
  IterVar r = reduce_axis(Range(0, 11), "r");
  EXPECT_TE_ERROR(compute_multi({5}, [&](const std::vector<Var>& i) {
                    return std::vector<Expr>{sum(A(i[0], k), {k}), sum(A(i[0], r), {r})};
                  }, "M"),
                  "compute M", "same reduction");
  EXPECT_TE_ERROR(compute_multi({5}, [&](const std::vector<Var>& i) {
                    return std::vector<Expr>{sum(A(i[0], k), {k}), A(i[0], 0)};
                  }, "N"),
                  "compute N", "not a reduction");
}

TEST(TeOperation, PostDfsOrderDiamond) {
  Tensor A = placeholder({8}, DataType::float32(), "A");
  Tensor B = compute({8}, [&](const std::vector<Var>& i) { return A(i[0]) + 1.0f; }, "B");
  Tensor C = compute({8}, [&](const std::vector<Var>& i) { return A(i[0]) * 2.0f; }, "C");
  Tensor D = compute({8}, [&](const std::vector<Var>& i) { return B(i[0]) + C(i[0]); }, "D");
  std::vector<Operation> order = post_dfs_order({D.op()});
  ASSERT_EQ(order.size(), 4u);
  auto pos = [&](const Tensor& t) {
    for (size_t p = 0; p < order.size(); ++p)
      if (order[p].same_as(t.op())) return int(p);
    return -1;
  };
  EXPECT_EQ(pos(A), 0);
  EXPECT_LT(pos(B), pos(D));
  EXPECT_LT(pos(C), pos(D));
  EXPECT_EQ(pos(D), 3);
  // Several outputs sharing producers: no duplicates.
  EXPECT_EQ(post_dfs_order({B.op(), D.op(), C.op()}).size(), 4u);
}

TEST(TeNDArray, EmptyShapesAndAlignment) {
  NDArray a = NDArray::empty({3, 5, 7}, DataType::float32());
  EXPECT_TRUE(a.defined());
  EXPECT_EQ(a.numel(), 105);
  EXPECT_EQ(a.nbytes(), 420u);
  EXPECT_EQ(reinterpret_cast<uintptr_t>(a.data()) % 64, 0u);
  EXPECT_EQ(a.dltensor()->ndim, 3);
  EXPECT_EQ(a.dltensor()->shape[2], 7);
  EXPECT_EQ(a.dltensor()->device.device_type, kDLCPU);
  NDArray s = NDArray::empty({}, DataType::int64());
  EXPECT_EQ(s.numel(), 1);
  EXPECT_EQ(s.nbytes(), 8u);
  NDArray z = NDArray::empty({4, 0}, DataType::int8());
  EXPECT_EQ(z.numel(), 0);
  EXPECT_TE_ERROR(NDArray::empty({2, -1}), "NDArray::empty", "dimension 1", "-1");
  EXPECT_EQ(NDArray::empty({3}, DataType::boolean()).nbytes(), 3u);
}

TEST(TeNDArray, CopiesShareStorageAndKeepShape) {
  NDArray copy;
  void* data = nullptr;
  {
    NDArray a = NDArray::empty({6, 2}, DataType::int32());
    data = a.data();
    copy = a;
  }
  EXPECT_EQ(copy.data(), data);
  EXPECT_EQ(copy.dltensor()->shape[0], 6);
  EXPECT_EQ(copy.dltensor()->shape[1], 2);
  copy.data_as<int32_t>()[11] = 42;  // still valid memory
  EXPECT_EQ(copy.data_as<int32_t>()[11], 42);
}

TEST(TeNDArray, FillPoison) {
  NDArray f = random_array({9}, DataType::float32(), 1);
  f.fill_poison();
  for (int i = 0; i < 9; ++i) EXPECT_TRUE(std::isnan(f.data_as<float>()[i]));
  NDArray d = NDArray::empty({4}, DataType::float64());
  d.fill_poison();
  EXPECT_TRUE(std::isnan(d.data_as<double>()[3]));
  NDArray n = NDArray::empty({5}, DataType::int32());
  std::memset(n.data(), 0, n.nbytes());
  n.fill_poison();
  EXPECT_EQ(n.data_as<int32_t>()[4], 0x7f7f7f7f);
}

TEST(TeNDArray, DlpackDtypes) {
  for (DataType t : {DataType::float16(), DataType::float32(), DataType::float64(), DataType::int8(),
                     DataType::int16(), DataType::int32(), DataType::int64(), DataType::uint8(),
                     DataType::boolean()}) {
    DLDataType d = to_dlpack(t);
    EXPECT_EQ(from_dlpack(d), t) << t.str();
    EXPECT_EQ(NDArray::empty({2}, t).dtype(), t) << t.str();
  }
  EXPECT_EQ(to_dlpack(DataType::float32()).code, kDLFloat);
  EXPECT_EQ(to_dlpack(DataType::boolean()).bits, 8);
  EXPECT_TE_ERROR(from_dlpack(DLDataType{kDLBfloat, 16, 1}), "not supported");
  EXPECT_TE_ERROR(from_dlpack(DLDataType{kDLUInt, 32, 1}), "not supported");
  EXPECT_TE_ERROR(from_dlpack(DLDataType{kDLFloat, 8, 1}), "not supported");
}

}  // namespace
}  // namespace te
