// storage_flatten: Realize/TensorStore/TensorRead → Allocate/Store/Load. The input is run
// with the Interpreter's tensor callbacks on the same arrays as the flat output.
#include "lower/arguments.h"
#include "lower/storage_flatten.h"
#include "test_lower_util.h"

namespace te {
namespace {

using testing::count_exprs;
using testing::count_stmts;

// Row-major float arrays for the tensor-level (unflattened) run.
struct TensorMemory {
  std::vector<std::pair<Tensor, std::vector<float>*>> arrays;
  std::vector<int64_t> shape_of(const Tensor& t, int64_t n) const {
    std::vector<int64_t> shape;
    for (const Expr& d : t.shape()) shape.push_back(as_const_int(d) ? *as_const_int(d) : n);
    return shape;
  }
  int64_t offset(const Tensor& t, const std::vector<int64_t>& idx, int64_t n) const {
    std::vector<int64_t> shape = shape_of(t, n);
    int64_t off = 0;
    for (size_t d = 0; d < idx.size(); ++d) off = off * shape[d] + idx[d];
    return off;
  }
  std::vector<float>& find(const Tensor& t) {
    for (auto& [tensor, values] : arrays)
      if (tensor == t) return *values;
    throw InternalError("no array for " + t.name());
  }
  // Runs s (TensorStore/TensorRead) with n bound; temporaries are held in `scratch`.
  void run(const Stmt& s, const Var& n_var, int64_t n) {
    Interpreter interp;
    interp.bind(n_var, Value::from_int(DataType::int32(), n));
    interp.tensor_read = [&](const Tensor& t, const std::vector<int64_t>& idx) {
      return Value::from_float(DataType::float32(), find(t).at(offset(t, idx, n)));
    };
    interp.tensor_store = [&](const Tensor& t, const std::vector<int64_t>& idx, const Value& v) {
      find(t).at(offset(t, idx, n)) = float(v.as_float());
    };
    interp.run(s);
  }
};

// B[i, j] = A[i, j] * 2 + 1 over a symbolic n x 4 shape.
TEST(LowerFlatten, ArgumentsAreAddressedRowMajorThroughDataVars) {
  Var n("n");
  Tensor a = placeholder({n, Expr(4)}, DataType::float32(), "A");
  Tensor b = placeholder({n, Expr(4)}, DataType::float32(), "B");
  Var i("i"), j("j");
  Stmt body = TensorStoreNode::make(b, TensorReadNode::make(a, {i, j}) * 2.0f + 1.0f, {i, j});
  Stmt loops = ForNode::make(i, Expr(0), n, ForKind::kSerial,
                             ForNode::make(j, Expr(0), Expr(4), ForKind::kSerial, body));
  Stmt input = RealizeNode::make(b, {Range(Expr(0), n), Range(Expr(0), Expr(4))}, "global", loops);

  std::vector<BufferArg> args = make_buffer_args({a, b});
  Stmt flat = storage_flatten(input, args);
  EXPECT_EQ(count_stmts(flat, [](const Stmt& s) { return s.as<RealizeNode>() || s.as<AllocateNode>(); }), 0)
      << flat;
  EXPECT_EQ(count_stmts(flat, [](const Stmt& s) { return s.as<TensorStoreNode>() != nullptr; }), 0);
  EXPECT_EQ(count_exprs(flat, [](const Expr& e) { return e.as<TensorReadNode>() != nullptr; }), 0);
  EXPECT_EQ(count_stmts(flat, [&](const Stmt& s) {
              const auto* st = s.as<StoreNode>();
              return st && st->buffer.same_as(args[1].data);
            }), 1);

  const int64_t n_value = 5;
  testing::FlatMemory flat_mem;
  std::vector<float>& a_flat = flat_mem.add(args[0].data, n_value * 4, 1);
  flat_mem.add(args[1].data, n_value * 4, 2);
  flat_mem.scalars.emplace_back(n, n_value);
  std::vector<float> a_copy = a_flat, b_expected(n_value * 4, -7.0f);
  flat_mem.run(flat);

  TensorMemory tensor_mem;
  tensor_mem.arrays = {{a, &a_copy}, {b, &b_expected}};
  tensor_mem.run(input, n, n_value);
  EXPECT_EQ(flat_mem.get(args[1].data), b_expected);
  EXPECT_FLOAT_EQ(b_expected[7], a_copy[7] * 2 + 1);  // the reference itself computed something
}

// T is realized over [1, 1 + 6) inside the function: it gets an Allocate of 6 elements and
// its accesses are shifted by the realize min.
TEST(LowerFlatten, TemporariesAreAllocatedOverTheirRealizeBounds) {
  Tensor a = placeholder({Expr(8)}, DataType::float32(), "A");
  Tensor t = placeholder({Expr(8)}, DataType::float32(), "T");
  Tensor c = placeholder({Expr(8)}, DataType::float32(), "C");
  Var i("i"), k("k");
  Stmt produce = ForNode::make(i, Expr(1), Expr(6), ForKind::kSerial,
                               TensorStoreNode::make(t, TensorReadNode::make(a, {i}) * 3.0f, {i}));
  Stmt consume = ForNode::make(k, Expr(1), Expr(6), ForKind::kSerial,
                               TensorStoreNode::make(c, TensorReadNode::make(t, {k}) - 1.0f, {k}));
  Stmt input = RealizeNode::make(t, {Range(Expr(1), Expr(6))}, "local", SeqNode::make({produce, consume}));

  std::vector<BufferArg> args = make_buffer_args({a, c});
  Stmt flat = storage_flatten(input, args);
  const AllocateNode* alloc = flat.as<AllocateNode>();
  ASSERT_NE(alloc, nullptr) << flat;
  EXPECT_EQ(alloc->buffer.name(), "T");
  EXPECT_EQ(alloc->scope, "local");
  EXPECT_EQ(alloc->dtype, DataType::float32());
  ASSERT_EQ(alloc->extents.size(), 1u);
  EXPECT_TRUE(is_const_int(alloc->extents[0], 6));

  testing::FlatMemory flat_mem;
  std::vector<float> a_values = flat_mem.add(args[0].data, 8, 3);
  flat_mem.add(args[1].data, 8, 4);
  std::vector<float> c_expected = flat_mem.get(args[1].data);
  flat_mem.run(flat);  // the interpreter bounds-checks T's 6 elements

  std::vector<float> t_scratch(8, 0.0f);
  TensorMemory tensor_mem;
  tensor_mem.arrays = {{a, &a_values}, {t, &t_scratch}, {c, &c_expected}};
  tensor_mem.run(input, Var("unused"), 0);
  EXPECT_EQ(flat_mem.get(args[1].data), c_expected);
  EXPECT_FLOAT_EQ(c_expected[3], a_values[3] * 3 - 1);
}

TEST(LowerFlatten, RealizeOfAnArgumentIsDropped) {
  Tensor a = placeholder({Expr(4)}, DataType::float32(), "A");
  Tensor c = placeholder({Expr(4)}, DataType::float32(), "C");
  Var i("i");
  Stmt input = RealizeNode::make(c, {Range(Expr(0), Expr(4))}, "global",
                                 ForNode::make(i, Expr(0), Expr(4), ForKind::kSerial,
                                               TensorStoreNode::make(c, TensorReadNode::make(a, {i}), {i})));
  Stmt flat = storage_flatten(input, make_buffer_args({a, c}));
  EXPECT_NE(flat.as<ForNode>(), nullptr) << flat;
}

TEST(LowerFlatten, TensorNotPassedIsAnError) {
  Tensor a = placeholder({Expr(4)}, DataType::float32(), "A");
  Tensor c = placeholder({Expr(4)}, DataType::float32(), "C");
  Var i("i");
  Stmt input = ForNode::make(i, Expr(0), Expr(4), ForKind::kSerial,
                             TensorStoreNode::make(c, TensorReadNode::make(a, {i}), {i}));
  EXPECT_TE_ERROR(storage_flatten(input, make_buffer_args({c})), "tensor A is used",
                  "not in the argument list");
}

TEST(LowerFlatten, ArgumentListErrors) {
  Tensor a = placeholder({Expr(4)}, DataType::float32(), "A");
  EXPECT_TE_ERROR(make_buffer_args({a, a}), "tensor A appears twice");
  EXPECT_TE_ERROR(make_buffer_args({a, Tensor()}), "argument 1", "undefined");
}

}  // namespace
}  // namespace te
