// Readable text of the IR: what te.lower() prints and TE_DEBUG_LOWER logs. Parentheses only
// where precedence needs them; int32/float32 constants bare, other dtypes suffixed.
#include <iomanip>
#include <sstream>

#include "te/expr_ops.h"
#include "te/ir_functor.h"

namespace te {

namespace {

int precedence(ExprKind k) {
  switch (k) {
    case ExprKind::Or: return 1;
    case ExprKind::And: return 2;
    case ExprKind::EQ: case ExprKind::NE: return 3;
    case ExprKind::LT: case ExprKind::LE: case ExprKind::GT: case ExprKind::GE: return 4;
    case ExprKind::Add: case ExprKind::Sub: return 5;
    case ExprKind::Mul: case ExprKind::Div: case ExprKind::Mod: return 6;
    default: return 10;  // atoms and calls
  }
}

const char* infix(ExprKind k) {
  switch (k) {
    case ExprKind::Add: return " + ";
    case ExprKind::Sub: return " - ";
    case ExprKind::Mul: return "*";
    case ExprKind::Div: return "/";
    case ExprKind::Mod: return " % ";
    case ExprKind::EQ: return " == ";
    case ExprKind::NE: return " != ";
    case ExprKind::LT: return " < ";
    case ExprKind::LE: return " <= ";
    case ExprKind::GT: return " > ";
    case ExprKind::GE: return " >= ";
    case ExprKind::And: return " && ";
    case ExprKind::Or: return " || ";
    default: return nullptr;
  }
}

class Printer {
 public:
  std::ostringstream os;

  void print(const Expr& e, int outer_prec = 0) {
    if (!e.defined()) {
      os << "<undefined>";
      return;
    }
    int prec = precedence(e->kind);
    if (const char* op = infix(e->kind)) {
      BinaryOperands b = binary_operands(e);
      bool paren = prec < outer_prec;
      if (paren) os << "(";
      print(*b.a, prec);
      os << op;
      // Left-associative: the right operand needs parentheses at equal precedence.
      print(*b.b, prec + 1);
      if (paren) os << ")";
      return;
    }
    switch (e->kind) {
      case ExprKind::IntImm: {
        const IntImmNode* op = e.as<IntImmNode>();
        if (op->dtype.is_bool()) os << (op->value ? "True" : "False");
        else {
          os << op->value;
          if (op->dtype != DataType::int32()) os << (op->dtype.is_uint() ? "u" : "i") << int(op->dtype.bits);
        }
        return;
      }
      case ExprKind::FloatImm: {
        const FloatImmNode* op = e.as<FloatImmNode>();
        std::ostringstream num;
        num << std::setprecision(op->dtype.bits == 64 ? 17 : 9) << op->value;
        std::string s = num.str();
        if (s.find_first_of(".eni") == std::string::npos) s += ".0";
        os << s << (op->dtype.bits == 32 ? "f" : op->dtype.bits == 64 ? "" : "h");
        return;
      }
      case ExprKind::Var: os << e.as<VarNode>()->name; return;
      case ExprKind::FloorDiv: call2("floordiv", e); return;
      case ExprKind::FloorMod: call2("floormod", e); return;
      case ExprKind::Min: call2("min", e); return;
      case ExprKind::Max: call2("max", e); return;
      case ExprKind::Not: os << "!"; print(e.as<NotNode>()->a, 10); return;
      case ExprKind::Select: {
        const SelectNode* op = e.as<SelectNode>();
        os << "select(";
        print(op->condition);
        os << ", ";
        print(op->true_value);
        os << ", ";
        print(op->false_value);
        os << ")";
        return;
      }
      case ExprKind::Cast: {
        os << e.dtype().str() << "(";
        print(e.as<CastNode>()->value);
        os << ")";
        return;
      }
      case ExprKind::Call: {
        const CallNode* op = e.as<CallNode>();
        os << intrinsic_name(op->op) << "(";
        for (size_t i = 0; i < op->args.size(); ++i) {
          if (i) os << ", ";
          print(op->args[i]);
        }
        os << ")";
        return;
      }
      case ExprKind::Load: {
        const LoadNode* op = e.as<LoadNode>();
        os << op->buffer->name << "[";
        print(op->index);
        os << "]";
        return;
      }
      case ExprKind::Ramp: {
        const RampNode* op = e.as<RampNode>();
        os << "ramp(";
        print(op->base);
        os << ", ";
        print(op->stride);
        os << ", " << op->lanes << ")";
        return;
      }
      case ExprKind::Broadcast: {
        const BroadcastNode* op = e.as<BroadcastNode>();
        os << "x" << op->lanes << "(";
        print(op->value);
        os << ")";
        return;
      }
      case ExprKind::Let: {
        const LetNode* op = e.as<LetNode>();
        os << "(let " << op->var->name << " = ";
        print(op->value);
        os << " in ";
        print(op->body);
        os << ")";
        return;
      }
      case ExprKind::TensorRead: {
        const TensorReadNode* op = e.as<TensorReadNode>();
        os << op->tensor.name();
        if (op->tensor.op().defined() && op->tensor.op()->num_outputs() > 1) os << ".v" << op->tensor->value_index;
        os << "[";
        for (size_t i = 0; i < op->indices.size(); ++i) {
          if (i) os << ", ";
          print(op->indices[i]);
        }
        os << "]";
        return;
      }
      case ExprKind::Reduce: {
        const ReduceNode* op = e.as<ReduceNode>();
        os << "reduce(";
        for (size_t i = 0; i < op->source.size(); ++i) {
          if (i) os << ", ";
          print(op->source[i]);
        }
        os << "; axis=[";
        for (size_t i = 0; i < op->axis.size(); ++i) {
          if (i) os << ", ";
          os << op->axis[i]->var->name << " in [";
          print(op->axis[i]->dom.min);
          os << ", ";
          print(op->axis[i]->dom.min.defined() ? op->axis[i]->dom.min + op->axis[i]->dom.extent : Expr());
          os << ")";
        }
        os << "]";
        if (!is_one(op->condition)) {
          os << ", where=";
          print(op->condition);
        }
        if (op->source.size() > 1) os << ", value=" << op->value_index;
        os << ")";
        return;
      }
      default: os << "<" << kind_name(e->kind) << ">"; return;
    }
  }

  void call2(const char* name, const Expr& e) {
    BinaryOperands b = binary_operands(e);
    os << name << "(";
    print(*b.a);
    os << ", ";
    print(*b.b);
    os << ")";
  }

  void indent(int level) { os << std::string(size_t(2 * level), ' '); }

  void print(const Stmt& s, int level) {
    if (!s.defined()) return;
    switch (s->kind) {
      case StmtKind::LetStmt: {
        const LetStmtNode* op = s.as<LetStmtNode>();
        indent(level);
        os << "let " << op->var->name << " = ";
        print(op->value);
        os << "\n";
        print(op->body, level);
        return;
      }
      case StmtKind::AttrStmt: {
        const AttrStmtNode* op = s.as<AttrStmtNode>();
        indent(level);
        os << "// attr " << op->key << " = ";
        print(op->value);
        os << "\n";
        print(op->body, level);
        return;
      }
      case StmtKind::For: {
        const ForNode* op = s.as<ForNode>();
        indent(level);
        os << "for (" << op->loop_var->name << ", ";
        print(op->min);
        os << ", ";
        print(op->extent);
        os << ")";
        if (op->for_kind == ForKind::kThreadBinding) os << " bind(" << op->thread_tag << ")";
        else if (op->for_kind != ForKind::kSerial) os << " " << for_kind_name(op->for_kind);
        os << " {\n";
        print(op->body, level + 1);
        indent(level);
        os << "}\n";
        return;
      }
      case StmtKind::Store: {
        const StoreNode* op = s.as<StoreNode>();
        indent(level);
        os << op->buffer->name << "[";
        print(op->index);
        os << "] = ";
        print(op->value);
        os << "\n";
        return;
      }
      case StmtKind::TensorStore: {
        const TensorStoreNode* op = s.as<TensorStoreNode>();
        indent(level);
        os << op->tensor.name();
        if (op->tensor.op()->num_outputs() > 1) os << ".v" << op->tensor->value_index;
        os << "[";
        for (size_t i = 0; i < op->indices.size(); ++i) {
          if (i) os << ", ";
          print(op->indices[i]);
        }
        os << "] = ";
        print(op->value);
        os << "\n";
        return;
      }
      case StmtKind::Realize: {
        const RealizeNode* op = s.as<RealizeNode>();
        indent(level);
        os << "realize " << op->tensor.name();
        if (op->tensor.op()->num_outputs() > 1) os << ".v" << op->tensor->value_index;
        os << "(";
        for (size_t i = 0; i < op->bounds.size(); ++i) {
          if (i) os << ", ";
          os << "[";
          print(op->bounds[i].min);
          os << ", +";
          print(op->bounds[i].extent);
          os << ")";
        }
        os << ") " << op->scope << " {\n";
        print(op->body, level + 1);
        indent(level);
        os << "}\n";
        return;
      }
      case StmtKind::Allocate: {
        const AllocateNode* op = s.as<AllocateNode>();
        indent(level);
        os << "allocate " << op->buffer->name << "[" << op->dtype.str();
        for (const Expr& e : op->extents) {
          os << " * ";
          print(e, 6);
        }
        os << "], " << op->scope << "\n";
        print(op->body, level);
        return;
      }
      case StmtKind::Seq:
        for (const Stmt& x : s.as<SeqNode>()->seq) print(x, level);
        return;
      case StmtKind::IfThenElse: {
        const IfThenElseNode* op = s.as<IfThenElseNode>();
        indent(level);
        os << "if (";
        print(op->condition);
        os << ") {\n";
        print(op->then_case, level + 1);
        if (op->else_case.defined()) {
          indent(level);
          os << "} else {\n";
          print(op->else_case, level + 1);
        }
        indent(level);
        os << "}\n";
        return;
      }
      case StmtKind::Evaluate: {
        indent(level);
        print(s.as<EvaluateNode>()->value);
        os << "\n";
        return;
      }
    }
  }
};

}  // namespace

std::string to_string(const Expr& e) {
  Printer p;
  p.print(e);
  return p.os.str();
}

std::string to_string(const Stmt& s) {
  Printer p;
  p.print(s, 0);
  return p.os.str();
}

std::ostream& operator<<(std::ostream& os, const Expr& e) { return os << to_string(e); }
std::ostream& operator<<(std::ostream& os, const Stmt& s) { return os << to_string(s); }

}  // namespace te
