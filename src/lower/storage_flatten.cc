// storage_flatten: Realize/TensorStore/TensorRead → Allocate/Store/Load.
#include "lower/storage_flatten.h"

#include <limits>
#include <optional>
#include <unordered_map>

#include "ir/simplify.h"
#include "te/expr_ops.h"
#include "te/ir_functor.h"

namespace te {
namespace {

// How one tensor is addressed in flat memory: element (i_0, ..., i_k) lives at
// data[sum((i_d - min_d) * stride_d)].
struct FlatBuffer {
  Var data;
  std::vector<Expr> mins;     // undefined entries mean 0
  std::vector<Expr> strides;  // row-major
  // Index arithmetic in int64: the buffer may hold more than 2^31-1 elements (a constant
  // shape that large, or a buffer allocated inside the kernel with a symbolic size). Arguments
  // with symbolic shapes keep int32 indices; the call checks they fit (Module::operator()).
  bool wide = false;
};

// Whether a buffer of these extents may need more than 32-bit element offsets.
bool needs_wide_index(const std::vector<Expr>& extents, bool symbolic_is_wide) {
  int64_t count = 1;
  for (const Expr& e : extents) {
    const int64_t* c = as_const_int(e);
    if (!c) return symbolic_is_wide;
    if (*c > 0 && count > std::numeric_limits<int32_t>::max() / *c) return true;
    count *= *c;
  }
  return false;
}

// Row-major strides of a shape: stride_last = 1, stride_d = stride_{d+1} * extent_{d+1}.
std::vector<Expr> row_major_strides(const std::vector<Expr>& extents) {
  std::vector<Expr> strides(extents.size());
  Expr stride = Expr(1);
  for (size_t d = extents.size(); d-- > 0;) {
    strides[d] = stride;
    stride = stride * extents[d];
  }
  return strides;
}

std::vector<Expr> wide_strides(const std::vector<Expr>& extents) {
  std::vector<Expr> wide;
  for (const Expr& e : extents) wide.push_back(cast(DataType::int64(), e));
  return row_major_strides(wide);
}

std::string buffer_name(const Tensor& t) {
  if (t.op()->num_outputs() > 1) return t.name() + ".v" + std::to_string(t->value_index);
  return t.name();
}

// Row-major strides with dimension d's stride rounded up to stride % factor == offset where
// aligns asks (symbolic strides stay exact: stride + (factor + offset - stride % factor) % factor).
std::vector<Expr> aligned_strides(const std::vector<Expr>& extents, const std::vector<StorageAlign>& aligns,
                                  Expr* total) {
  std::vector<Expr> strides(extents.size());
  Expr stride = Expr(1);
  for (size_t d = extents.size(); d-- > 0;) {
    for (const StorageAlign& a : aligns) {
      if (size_t(a.dim) != d) continue;
      Expr f = make_const(stride.dtype(), double(a.factor)), o = make_const(stride.dtype(), double(a.offset));
      stride = simplify(stride + floormod(f + o - floormod(stride, f), f));
    }
    strides[d] = stride;
    stride = simplify(stride * extents[d]);
  }
  *total = stride;
  return strides;
}

class StorageFlattener : public IRMutator {
 public:
  StorageFlattener(const std::vector<BufferArg>& args, const StorageAlignMap& aligns) : aligns_(aligns) {
    for (const BufferArg& arg : args)
      if (aligns.count(arg.tensor.op().get()))
        fail("storage_align: stage ", arg.tensor.name(), " is an argument of the function, whose layout (row-major) ",
             "belongs to the caller; apply storage_align to a cache stage (cache_read/cache_write) instead");
    for (const BufferArg& arg : args) {
      FlatBuffer buf;
      buf.data = arg.data;
      buf.mins.resize(arg.shape.size());
      buf.wide = needs_wide_index(arg.shape, false);
      buf.strides = buf.wide ? wide_strides(arg.shape) : row_major_strides(arg.shape);
      arg_buffers_.emplace(arg.tensor, buf);
    }
  }

 protected:
  Stmt mutate_node(const RealizeNode* op, const Stmt& self) override {
    if (arg_buffers_.count(op->tensor)) return mutate(op->body);  // the caller owns the memory
    FlatBuffer buf;
    buf.data = Var(buffer_name(op->tensor), DataType::handle());
    std::vector<Expr> extents;
    for (const Range& r : op->bounds) {
      buf.mins.push_back(is_zero(r.min) ? Expr() : r.min);
      extents.push_back(r.extent);
    }
    buf.wide = needs_wide_index(extents, true);
    if (auto align = aligns_.find(op->tensor.op().get()); align != aligns_.end() && !extents.empty()) {
      std::vector<Expr> index_extents = extents;
      if (buf.wide)
        for (Expr& e : index_extents) e = cast(DataType::int64(), e);
      Expr total;
      buf.strides = aligned_strides(index_extents, align->second, &total);
      extents = {total};  // the padded rows, flat
    } else {
      buf.strides = buf.wide ? wide_strides(extents) : row_major_strides(extents);
    }
    if (extents.empty()) extents.push_back(Expr(1));  // a 0-d tensor holds one element

    // Realizes of the same tensor may nest (e.g. inside an unrolled region): innermost wins.
    auto previous = realized_.find(op->tensor);
    std::optional<FlatBuffer> shadowed;
    if (previous != realized_.end()) shadowed = previous->second;
    realized_[op->tensor] = buf;
    Stmt body = mutate(op->body);
    if (shadowed) realized_[op->tensor] = *shadowed;
    else realized_.erase(op->tensor);
    std::string scope = op->scope.empty() ? "global" : op->scope;
    return AllocateNode::make(buf.data, op->tensor.dtype(), extents, scope, body);
  }

  Stmt mutate_node(const TensorStoreNode* op, const Stmt& self) override {
    const FlatBuffer& buf = lookup(op->tensor, "written");
    Expr value = mutate(op->value);
    return StoreNode::make(buf.data, value, flat_index(op->tensor, buf, op->indices));
  }

  Expr mutate_node(const TensorReadNode* op, const Expr& self) override {
    const FlatBuffer& buf = lookup(op->tensor, "used");
    return LoadNode::make(op->tensor.dtype(), buf.data, flat_index(op->tensor, buf, op->indices));
  }

 private:
  const FlatBuffer& lookup(const Tensor& t, const char* how) {
    auto it = realized_.find(t);
    if (it != realized_.end()) return it->second;
    auto arg = arg_buffers_.find(t);
    if (arg != arg_buffers_.end()) return arg->second;
    fail("tensor ", t.name(), " is ", how,
         " but not in the argument list of lower/build; pass it as an argument");
  }

  Expr flat_index(const Tensor& t, const FlatBuffer& buf, const std::vector<Expr>& indices) {
    TE_ICHECK(indices.size() == buf.strides.size(), "tensor ", t.name(), " accessed with ",
              indices.size(), " indices but has ", buf.strides.size(), " dimensions");
    Expr index;
    for (size_t d = 0; d < indices.size(); ++d) {
      Expr i = mutate(indices[d]);
      if (buf.mins[d].defined()) i = i - buf.mins[d];
      Expr stride = buf.strides[d];
      if (buf.wide) i = cast(DataType::int64().with_lanes(i.dtype().lanes), i);
      Expr term = is_one(stride) ? i : i * stride;
      index = index.defined() ? index + term : term;
    }
    return index.defined() ? index : Expr(0);
  }

  const StorageAlignMap& aligns_;
  std::unordered_map<Tensor, FlatBuffer, TensorHash> arg_buffers_;
  std::unordered_map<Tensor, FlatBuffer, TensorHash> realized_;
};

}  // namespace

Stmt storage_flatten(const Stmt& s, const std::vector<BufferArg>& args, const StorageAlignMap& aligns) {
  return StorageFlattener(args, aligns).mutate(s);
}

}  // namespace te
