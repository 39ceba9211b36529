// check_target: a loop bound to a GPU thread axis cannot run on a CPU target.
#include "lower/check_target.h"

#include "lower/stage_name.h"
#include "te/ir_functor.h"

namespace te {
namespace {


class CheckTarget : public IRVisitor {
 public:
  explicit CheckTarget(const Target& target) : target_(target) {}

 protected:
  void visit_node(const ForNode* op) override {
    if (op->for_kind == ForKind::kThreadBinding && target_.kind != "cuda") {
      std::string stage = stage_of(op->body);
      fail("bind: axis ", op->loop_var.name(), stage.empty() ? "" : " of stage " + stage,
           " is bound to ", op->thread_tag.empty() ? std::string("a thread axis") : op->thread_tag,
           ", but target ", target_.kind,
           " has no threads; bind is for target cuda (use parallel() for CPU threads)");
    }
    IRVisitor::visit_node(op);
  }

 private:
  const Target& target_;
};

}  // namespace

Stmt check_target(const Stmt& s, const Target& target) {
  CheckTarget checker(target);
  checker.visit(s);
  return s;
}

}  // namespace te
