// src/te/reference.cc — the reference evaluator: runs the unscheduled compute definition with
// the IR interpreter, one output point at a time. Slow and simple on purpose: it is the oracle
// every schedule is compared against (tests/cpp/equivalence.h), so it shares no code with
// bound inference, lowering or code generation.
#include <map>
#include <unordered_map>

#include "ir/interpreter.h"
#include "te/operation.h"
#include "ir/half.h"
#include "te/runtime.h"

namespace te {

namespace {

// Scalar element access of an NDArray by flat index, converting through the interpreter's
// Value (int64 for integers/bools, double for floats).
Value read_element(const NDArray& a, int64_t i) {
  DataType t = a.dtype();
  const void* p = a.data();
  switch (t.code) {
    case DataType::kFloat:
      if (t.bits == 32) return Value::from_float(t, static_cast<const float*>(p)[i]);
      if (t.bits == 64) return Value::from_float(t, static_cast<const double*>(p)[i]);
      if (t.bits == 16) return Value::from_float(t, detail::load_half(p, i));
      break;
    case DataType::kInt:
      if (t.bits == 8) return Value::from_int(t, static_cast<const int8_t*>(p)[i]);
      if (t.bits == 16) return Value::from_int(t, static_cast<const int16_t*>(p)[i]);
      if (t.bits == 32) return Value::from_int(t, static_cast<const int32_t*>(p)[i]);
      if (t.bits == 64) return Value::from_int(t, static_cast<const int64_t*>(p)[i]);
      break;
    case DataType::kUInt:
      if (t.bits == 8) return Value::from_int(t, static_cast<const uint8_t*>(p)[i]);
      break;
    case DataType::kBool:
      return Value::from_int(t, static_cast<const uint8_t*>(p)[i] != 0);
    default:
      break;
  }
  fail("evaluate_reference: arrays of dtype ", t.str(), " are not supported");
}

void write_element(NDArray& a, int64_t i, const Value& v) {
  DataType t = a.dtype();
  void* p = a.data();
  switch (t.code) {
    case DataType::kFloat:
      if (t.bits == 32) { static_cast<float*>(p)[i] = float(v.as_float()); return; }
      if (t.bits == 64) { static_cast<double*>(p)[i] = v.as_float(); return; }
      if (t.bits == 16) { detail::store_half(p, i, v.as_float()); return; }
      break;
    case DataType::kInt:
      if (t.bits == 8) { static_cast<int8_t*>(p)[i] = int8_t(v.as_int()); return; }
      if (t.bits == 16) { static_cast<int16_t*>(p)[i] = int16_t(v.as_int()); return; }
      if (t.bits == 32) { static_cast<int32_t*>(p)[i] = int32_t(v.as_int()); return; }
      if (t.bits == 64) { static_cast<int64_t*>(p)[i] = v.as_int(); return; }
      break;
    case DataType::kUInt:
      if (t.bits == 8) { static_cast<uint8_t*>(p)[i] = uint8_t(v.as_int()); return; }
      break;
    case DataType::kBool:
      static_cast<uint8_t*>(p)[i] = v.as_int() != 0;
      return;
    default:
      break;
  }
  fail("evaluate_reference: arrays of dtype ", t.str(), " are not supported");
}

struct TensorKey {
  const OperationNode* op;
  int value_index;
  bool operator<(const TensorKey& o) const {
    return op != o.op ? op < o.op : value_index < o.value_index;
  }
};
TensorKey key_of(const Tensor& t) { return {t.op().get(), t->value_index}; }

std::string shape_str(const std::vector<int64_t>& shape) {
  std::string s = "[";
  for (size_t i = 0; i < shape.size(); ++i) s += (i ? ", " : "") + std::to_string(shape[i]);
  return s + "]";
}

class ReferenceEvaluator {
 public:
  ReferenceEvaluator() {
    interp_.tensor_read = [this](const Tensor& t, const std::vector<int64_t>& idx) { return read(t, idx); };
  }

  // Binds the symbolic sizes of the placeholders from the input arrays and records the arrays.
  void bind_inputs(const std::vector<Tensor>& placeholders, const std::vector<NDArray>& inputs) {
    if (placeholders.size() != inputs.size())
      fail("evaluate_reference: got ", inputs.size(), " input arrays for ", placeholders.size(), " placeholders");
    for (size_t a = 0; a < placeholders.size(); ++a) {
      const Tensor& ph = placeholders[a];
      const NDArray& arr = inputs[a];
      if (!ph.defined()) fail("evaluate_reference: placeholder ", a, " is undefined");
      std::string what = "evaluate_reference: input " + std::to_string(a) + " (" + ph.name() + ")";
      if (!ph.op().as<PlaceholderOpNode>()) fail(what, " is not a placeholder; pass te::placeholder tensors");
      if (!arr.defined()) fail(what, ": the array is undefined");
      if (arr.dtype() != ph.dtype()) fail(what, ": expected dtype ", ph.dtype().str(), ", got ", arr.dtype().str());
      if (int(arr.shape().size()) != ph.ndim())
        fail(what, ": expected ", ph.ndim(), " dimensions, got shape ", shape_str(arr.shape()));
      // Plain variables first: a dimension like n + 1 is checked once n is known.
      for (int d = 0; d < ph.ndim(); ++d) {
        const auto* v = ph.shape()[d].as<VarNode>();
        if (!v || bound_sizes_.count(v)) continue;
        bound_sizes_[v] = arr.shape()[d];
        interp_.bind(Var(v), Value::from_int(v->dtype, arr.shape()[d]));
      }
      arrays_[key_of(ph)] = arr;
    }
    for (size_t a = 0; a < placeholders.size(); ++a) {
      const Tensor& ph = placeholders[a];
      for (int d = 0; d < ph.ndim(); ++d) {
        int64_t expected = eval_int(ph.shape()[d], ph.name());
        if (expected != inputs[a].shape()[d])
          fail("evaluate_reference: input ", a, " (", ph.name(), "): dimension ", d, " (", ph.shape()[d],
               ") is ", expected, " from the other inputs, but the array has shape ", shape_str(inputs[a].shape()));
      }
    }
  }

  void evaluate(const Operation& op) {
    if (const auto* ph = op.as<PlaceholderOpNode>()) {
      if (!arrays_.count({op.get(), 0}))
        fail("evaluate_reference: placeholder ", ph->name, " is read by the compute but is not among the inputs");
      return;
    }
    const auto* compute = op.as<ComputeOpNode>();
    TE_ICHECK(compute, "evaluate_reference: unknown operation kind of ", op->name);
    std::vector<int64_t> mins, shape;
    for (const IterVar& iv : compute->axis) {
      mins.push_back(eval_int(iv.dom().min, compute->name));
      int64_t extent = eval_int(iv.dom().extent, compute->name);
      if (extent < 0) fail("evaluate_reference: compute ", compute->name, " has a negative extent ", extent);
      shape.push_back(extent);
    }
    std::vector<NDArray> outs;
    for (int k = 0; k < compute->num_outputs(); ++k) {
      outs.push_back(NDArray::empty(shape, compute->output_dtype(k)));
      outs.back().fill_poison();
    }
    const int64_t numel = outs[0].numel();
    std::vector<int64_t> point(shape.size(), 0);
    for (int64_t flat = 0; flat < numel; ++flat) {
      for (size_t d = 0; d < shape.size(); ++d)
        interp_.bind(compute->axis[d].var(), Value::from_int(compute->axis[d].var().dtype(), mins[d] + point[d]));
      if (compute->reduce_axis.empty()) {
        for (int k = 0; k < compute->num_outputs(); ++k) write_element(outs[k], flat, interp_.eval(compute->body[k]));
      } else {
        std::vector<Value> results = reduce(compute);
        for (int k = 0; k < compute->num_outputs(); ++k) {
          int vi = compute->body[k].as<ReduceNode>()->value_index;
          write_element(outs[k], flat, results.at(vi));
        }
      }
      // Row-major increment of the output point.
      for (size_t d = shape.size(); d-- > 0;) {
        if (++point[d] < shape[d]) break;
        point[d] = 0;
      }
    }
    // Storage is keyed by the op's node, so consumers reading op.output(k) find it.
    for (int k = 0; k < compute->num_outputs(); ++k) arrays_[{op.get(), k}] = outs[k];
    ops_.push_back(op);  // keeps the node alive while its address is a key
  }

  NDArray result(const Tensor& t) const {
    auto it = arrays_.find(key_of(t));
    TE_ICHECK(it != arrays_.end(), "evaluate_reference: output ", t.name(), " was not computed");
    return it->second;
  }

 private:
  int64_t eval_int(const Expr& e, const std::string& who) {
    if (const int64_t* v = as_const_int(e)) return *v;
    try {
      return interp_.eval(e).as_int();
    } catch (const InternalError& err) {
      // Most likely a symbolic size that no input binds.
      fail("evaluate_reference: cannot evaluate ", e, " (a size of ", who,
           "); every symbolic size must be a dimension of an input placeholder (", err.what(), ")");
    }
  }

  // The reduction of the body's ReduceNode at the current output point: all values of a
  // multi-valued reducer are combined together, in lexicographic order of the reduce axes.
  std::vector<Value> reduce(const ComputeOpNode* compute) {
    const ReduceNode* r = compute->body[0].as<ReduceNode>();
    TE_ICHECK(r, "evaluate_reference: compute ", compute->name, " has reduce axes but no ReduceNode");
    const CommReducer& combiner = r->combiner;
    const size_t nvalues = combiner->result.size();
    std::vector<Value> acc;
    for (const Expr& id : combiner->identity) acc.push_back(interp_.eval(id));
    const auto& axes = r->axis;
    std::vector<int64_t> mins, extents;
    for (const IterVar& iv : axes) {
      mins.push_back(eval_int(iv.dom().min, compute->name));
      extents.push_back(eval_int(iv.dom().extent, compute->name));
      if (extents.back() <= 0) return acc;
    }
    std::vector<int64_t> point(axes.size(), 0);
    while (true) {
      for (size_t d = 0; d < axes.size(); ++d)
        interp_.bind(axes[d].var(), Value::from_int(axes[d].var().dtype(), mins[d] + point[d]));
      if (!r->condition.defined() || interp_.eval(r->condition).as_bool()) {
        std::vector<Value> src;
        for (const Expr& s : r->source) src.push_back(interp_.eval(s));
        for (size_t v = 0; v < nvalues; ++v) {
          interp_.bind(combiner->lhs[v], acc[v]);
          interp_.bind(combiner->rhs[v], src[v]);
        }
        for (size_t v = 0; v < nvalues; ++v) acc[v] = interp_.eval(combiner->result[v]);
      }
      size_t d = axes.size();
      while (d-- > 0) {
        if (++point[d] < extents[d]) break;
        point[d] = 0;
      }
      if (d == size_t(-1)) break;
    }
    return acc;
  }

  Value read(const Tensor& t, const std::vector<int64_t>& idx) {
    auto it = arrays_.find(key_of(t));
    TE_ICHECK(it != arrays_.end(), "evaluate_reference: tensor ", t.name(), " is read before it is computed");
    const NDArray& a = it->second;
    TE_ICHECK(idx.size() == a.shape().size(), "evaluate_reference: ", idx.size(), " indices for tensor ",
              t.name(), " of ", a.shape().size(), " dimensions");
    int64_t flat = 0;
    for (size_t d = 0; d < idx.size(); ++d) {
      // The compute definition reads outside a tensor: a mistake in the definition (use
      // if_then_else for padding), reported as such rather than read as garbage.
      if (idx[d] < 0 || idx[d] >= a.shape()[d]) {
        std::string where;
        for (size_t e = 0; e < idx.size(); ++e) where += (e ? ", " : "") + std::to_string(idx[e]);
        fail("evaluate_reference: the compute reads ", t.name(), "[", where, "], outside its shape ",
             shape_str(a.shape()), "; guard padded reads with te::if_then_else");
      }
      flat = flat * a.shape()[d] + idx[d];
    }
    return read_element(a, flat);
  }

  Interpreter interp_;
  std::unordered_map<const VarNode*, int64_t> bound_sizes_;
  std::map<TensorKey, NDArray> arrays_;
  std::vector<Operation> ops_;
};

}  // namespace

std::vector<NDArray> evaluate_reference(const std::vector<Tensor>& placeholders, const std::vector<NDArray>& inputs,
                                        const std::vector<Tensor>& outputs) {
  ReferenceEvaluator evaluator;
  evaluator.bind_inputs(placeholders, inputs);
  std::vector<Operation> output_ops;
  for (size_t i = 0; i < outputs.size(); ++i) {
    if (!outputs[i].defined()) fail("evaluate_reference: output ", i, " is undefined");
    output_ops.push_back(outputs[i].op());
  }
  for (const Operation& op : post_dfs_order(output_ops)) evaluator.evaluate(op);
  std::vector<NDArray> results;
  for (const Tensor& t : outputs) results.push_back(evaluator.result(t));
  return results;
}

}  // namespace te
