// src/autotune/task_workload.cc — what names and sizes a compute: the canonical text hashed
// into auto tasks' workload keys, and the flop count used for GFLOP/s.
//
// Canonical text (one line per operation, in post-DFS order from the args, inputs first):
//   op<k> placeholder <dtype> [<shape>]
//   op<k> compute [<axis extents>] reduce [<reduce axis ranges>] = <body>; <body>...
//   args op<k>.<value_index> ...
// Operations are named by position, variables v0, v1, ... by first appearance (axes are
// declared before the body), so neither pointer values, global counters nor the names the
// user gave change the text. Constants print with their dtype (floats with 17 digits).
//
// Flop counting, per output point of each compute op: Add/Sub/Mul/Div/Mod/FloorDiv/FloorMod/
// Min/Max and math calls count 1, fma counts 2; a reduction counts (source + combiner) once
// per reduction iteration, so matmul is 2*M*N*K. Reads of tensors, casts, conditions
// (reduction `where`, select / if_then_else conditions, which are index tests like padding)
// and index expressions count 0; select / if_then_else count their costlier branch.
#include <algorithm>
#include <cstdio>
#include <unordered_map>

#include "te/autotune/task.h"
#include "te/ir_functor.h"

namespace te::autotune {

namespace {

class CanonicalPrinter {
 public:
  std::string print(const std::vector<Tensor>& args) {
    std::vector<Operation> roots;
    for (const Tensor& t : args) roots.push_back(t.op());
    for (const Operation& op : post_dfs_order(roots)) {
      int k = int(op_index_.size());
      op_index_[op.get()] = k;
      os_ << "op" << k << " ";
      if (const auto* p = op.as<PlaceholderOpNode>()) {
        os_ << "placeholder " << p->dtype.str() << " [";
        print_list(p->shape);
        os_ << "]\n";
      } else if (const auto* c = op.as<ComputeOpNode>()) {
        print_compute(c);
      } else {
        TE_ICHECK(false, "canonical_compute_text: unknown operation kind of ", op->name);
      }
    }
    os_ << "args";
    for (const Tensor& t : args) os_ << " op" << op_index_.at(t.op().get()) << "." << t->value_index;
    return os_.str();
  }

 private:
  std::ostringstream os_;
  std::unordered_map<const OperationNode*, int> op_index_;
  std::unordered_map<const VarNode*, int> var_index_;

  void print_compute(const ComputeOpNode* c) {
    os_ << "compute [";
    for (size_t i = 0; i < c->axis.size(); ++i) {
      os_ << (i ? ", " : "");
      print_var(c->axis[i].var());
      os_ << ":";
      print_range(c->axis[i].dom());
    }
    os_ << "] reduce [";
    for (size_t i = 0; i < c->reduce_axis.size(); ++i) {
      os_ << (i ? ", " : "");
      print_var(c->reduce_axis[i].var());
      os_ << ":";
      print_range(c->reduce_axis[i].dom());
    }
    os_ << "] =";
    for (const Expr& e : c->body) {
      os_ << " ";
      print(e);
      os_ << ";";
    }
    os_ << "\n";
  }

  void print_range(const Range& r) {
    os_ << "(";
    print(r.min);
    os_ << ",";
    print(r.extent);
    os_ << ")";
  }

  void print_var(const Var& v) {
    auto [it, inserted] = var_index_.try_emplace(v.get(), int(var_index_.size()));
    os_ << "v" << it->second << ":" << v.dtype().str();
  }

  void print_list(const std::vector<Expr>& exprs) {
    for (size_t i = 0; i < exprs.size(); ++i) {
      os_ << (i ? ", " : "");
      print(exprs[i]);
    }
  }

  void print(const Expr& e) {
    if (!e.defined()) {
      os_ << "_";
      return;
    }
    if (const auto* n = e.as<IntImmNode>()) {
      os_ << n->value << ":" << n->dtype.str();
    } else if (const auto* n = e.as<FloatImmNode>()) {
      char buf[40];
      std::snprintf(buf, sizeof(buf), "%.17g", n->value);
      os_ << buf << ":" << n->dtype.str();
    } else if (const auto* n = e.as<VarNode>()) {
      print_var(Var(n));
    } else if (BinaryOperands ab = binary_operands(e); ab.a) {
      os_ << kind_name(e->kind) << "(";
      print(*ab.a);
      os_ << ", ";
      print(*ab.b);
      os_ << ")";
    } else if (const auto* n = e.as<NotNode>()) {
      os_ << "Not(";
      print(n->a);
      os_ << ")";
    } else if (const auto* n = e.as<SelectNode>()) {
      os_ << "Select(";
      print_list({n->condition, n->true_value, n->false_value});
      os_ << ")";
    } else if (const auto* n = e.as<CastNode>()) {
      os_ << "Cast<" << n->dtype.str() << ">(";
      print(n->value);
      os_ << ")";
    } else if (const auto* n = e.as<CallNode>()) {
      os_ << intrinsic_name(n->op) << "<" << n->dtype.str() << ">(";
      print_list(n->args);
      os_ << ")";
    } else if (const auto* n = e.as<LetNode>()) {
      os_ << "Let(";
      print_var(n->var);
      os_ << " = ";
      print(n->value);
      os_ << "; ";
      print(n->body);
      os_ << ")";
    } else if (const auto* n = e.as<TensorReadNode>()) {
      auto found = op_index_.find(n->tensor.op().get());
      TE_ICHECK(found != op_index_.end(), "canonical_compute_text: read of an unvisited tensor");
      os_ << "op" << found->second << "." << n->tensor->value_index << "[";
      print_list(n->indices);
      os_ << "]";
    } else if (const auto* n = e.as<ReduceNode>()) {
      os_ << "Reduce(";
      for (const std::vector<Var>* side : {&n->combiner->lhs, &n->combiner->rhs}) {
        for (const Var& v : *side) {
          print_var(v);
          os_ << " ";
        }
      }
      os_ << "-> ";
      print_list(n->combiner->result);
      os_ << "; identity ";
      print_list(n->combiner->identity);
      os_ << "; source ";
      print_list(n->source);
      os_ << "; axis";
      for (const IterVar& iv : n->axis) {
        os_ << " ";
        print_var(iv.var());
      }
      os_ << "; where ";
      print(n->condition);
      os_ << "; value " << n->value_index << ")";
    } else {
      // Load/Ramp/Broadcast only exist after lowering; a compute body never holds them.
      fail("canonical_compute_text: unexpected ", kind_name(e->kind), " node in a compute body");
    }
  }
};

// Operations per evaluation of e (see the file comment for the rules).
double count_expr(const Expr& e) {
  if (!e.defined()) return 0;
  if (BinaryOperands ab = binary_operands(e); ab.a) {
    double operands = count_expr(*ab.a) + count_expr(*ab.b);
    switch (e->kind) {
      case ExprKind::Add:
      case ExprKind::Sub:
      case ExprKind::Mul:
      case ExprKind::Div:
      case ExprKind::Mod:
      case ExprKind::FloorDiv:
      case ExprKind::FloorMod:
      case ExprKind::Min:
      case ExprKind::Max:
        return operands + 1;
      default:  // comparisons and logic
        return operands;
    }
  }
  if (const auto* n = e.as<NotNode>()) return count_expr(n->a);
  if (const auto* n = e.as<CastNode>()) return count_expr(n->value);
  if (const auto* n = e.as<SelectNode>())
    return std::max(count_expr(n->true_value), count_expr(n->false_value));
  if (const auto* n = e.as<LetNode>()) return count_expr(n->value) + count_expr(n->body);
  if (const auto* n = e.as<CallNode>()) {
    switch (n->op) {
      case Intrinsic::kIfThenElse:
        return std::max(count_expr(n->args.at(1)), count_expr(n->args.at(2)));
      case Intrinsic::kLikely:
        return 0;
      case Intrinsic::kFma:
        return 2 + count_expr(n->args.at(0)) + count_expr(n->args.at(1)) + count_expr(n->args.at(2));
      default: {
        double total = 1;
        for (const Expr& a : n->args) total += count_expr(a);
        return total;
      }
    }
  }
  if (const auto* n = e.as<ReduceNode>()) {
    double iterations = 1;
    for (const IterVar& iv : n->axis) {
      const int64_t* extent = as_const_int(iv.dom().extent);
      if (!extent)
        fail("count_flop: reduction axis '", iv.var().name(), "' has a symbolic extent (", iv.dom().extent,
             "); flops need constant sizes");
      iterations *= double(*extent);
    }
    double per_iteration = 0;
    for (const Expr& s : n->source) per_iteration += count_expr(s);
    for (const Expr& r : n->combiner->result) per_iteration += count_expr(r);
    return iterations * per_iteration;
  }
  return 0;  // constants, variables, tensor reads
}

}  // namespace

std::string canonical_compute_text(const std::vector<Tensor>& args) {
  if (args.empty()) fail("canonical_compute_text: no tensors given");
  for (size_t i = 0; i < args.size(); ++i)
    if (!args[i].defined()) fail("canonical_compute_text: argument ", i, " is undefined");
  return CanonicalPrinter().print(args);
}

std::string auto_workload_key(const std::vector<Tensor>& args) {
  std::string text = canonical_compute_text(args);
  // FNV-1a 64: a fixed, documented hash, so keys are the same in every run and version.
  uint64_t hash = 0xcbf29ce484222325ull;
  for (unsigned char c : text) {
    hash ^= c;
    hash *= 0x100000001b3ull;
  }
  char hex[17];
  std::snprintf(hex, sizeof(hex), "%016llx", static_cast<unsigned long long>(hash));
  return std::string("auto_") + hex + "(" + args.back().name() + ")";
}

std::optional<TemplateKey> parse_template_key(const std::string& key) {
  size_t open = key.find('(');
  if (open == std::string::npos || open == 0 || key.back() != ')') return std::nullopt;
  TemplateKey parsed{key.substr(0, open), {}};
  std::string inner = key.substr(open + 1, key.size() - open - 2);
  size_t pos = 0;
  while (pos < inner.size()) {
    size_t comma = inner.find(',', pos);
    if (comma == std::string::npos) comma = inner.size();
    std::string item = inner.substr(pos, comma - pos);
    size_t used = 0;
    try {
      parsed.args.push_back(std::stoll(item, &used));
    } catch (const std::exception&) {
      return std::nullopt;
    }
    if (used != item.size()) return std::nullopt;
    pos = comma + 1;
  }
  return parsed;
}

double count_flop(const std::vector<Tensor>& outputs) {
  if (outputs.empty()) fail("count_flop: no output tensors given");
  std::vector<Operation> roots;
  for (size_t i = 0; i < outputs.size(); ++i) {
    if (!outputs[i].defined()) fail("count_flop: output ", i, " is undefined");
    roots.push_back(outputs[i].op());
  }
  double total = 0;
  for (const Operation& op : post_dfs_order(roots)) {
    const auto* c = op.as<ComputeOpNode>();
    if (!c) continue;
    double points = 1;
    for (const IterVar& iv : c->axis) {
      const int64_t* extent = as_const_int(iv.dom().extent);
      if (!extent)
        fail("count_flop: compute '", op->name, "' has a symbolic extent (", iv.dom().extent, ") on axis '",
             iv.var().name(), "'; flops need constant sizes");
      points *= double(*extent);
    }
    // A multi-valued reduction (argmax) has one ReduceNode per value sharing the source and
    // combiner: count it once.
    double per_point = 0;
    if (!c->body.empty() && c->body[0].as<ReduceNode>())
      per_point = count_expr(c->body[0]);
    else
      for (const Expr& e : c->body) per_point += count_expr(e);
    total += points * per_point;
  }
  return total;
}

}  // namespace te::autotune
