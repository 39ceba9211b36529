// src/python/bind_schedule.cc — Schedule and Stage with TVM's method names: s[C].split(axis,
// factor=...), tile, fuse, reorder, vectorize, unroll, parallel, bind, pragma, prefetch, compute_at,
// compute_inline, compute_root; s.cache_read/cache_write/rfactor; replayable steps.
#include "python/bindings.h"

namespace te::python {

namespace {
Operation to_operation(py::handle value, const std::string& what) {
  if (py::isinstance<Operation>(value)) return value.cast<Operation>();
  if (py::isinstance<Tensor>(value)) return value.cast<Tensor>().op();
  fail(what, ": expected a tensor or an operation, got ", std::string(py::str(py::type::of(value).attr("__name__"))));
}
std::vector<Operation> to_operation_list(py::handle value, const std::string& what) {
  std::vector<Operation> out;
  if (py::isinstance<py::tuple>(value) || py::isinstance<py::list>(value)) {
    for (py::handle item : value) out.push_back(to_operation(item, what));
  } else {
    out.push_back(to_operation(value, what));
  }
  return out;
}
IterVar to_iter_var(py::handle value, const std::string& what) {
  if (!py::isinstance<IterVar>(value))
    fail(what, ": expected an IterVar (an axis of this stage), got ",
         std::string(py::str(py::type::of(value).attr("__name__"))));
  return value.cast<IterVar>();
}
int64_t to_int(py::handle value, const std::string& what) {
  if (py::isinstance<py::bool_>(value) || !(py::isinstance<py::int_>(value) || py::hasattr(value, "__index__")))
    fail(what, ": expected a positive integer, got ", std::string(py::repr(value)));
  return value.attr("__index__")().cast<int64_t>();
}
const char* attach_name(AttachType t) {
  switch (t) {
    case AttachType::kInline: return "inline";
    case AttachType::kScope: return "scope";
    default: return "root";
  }
}
}  // namespace

void bind_schedule(py::module_& m) {
  py::class_<Stage>(m, "Stage", "The schedule of one operation; get it with s[T].")
      .def_property_readonly("name", [](const Stage& s) { return s.name(); }, "The name of the stage's operation.")
      .def_property_readonly("op", [](const Stage& s) { return s->op; },
                             "The operation this stage computes (after rfactor/cache rewrites).")
      .def_property_readonly("origin_op", [](const Stage& s) { return s->origin_op; },
                             "The operation the stage was created for, before any rewrite.")
      .def_property_readonly("leaf_iter_vars", [](const Stage& s) { return s->leaf_iter_vars; },
                             "The current loop axes, outermost first (what split/fuse/reorder produced).")
      .def_property_readonly("all_iter_vars", [](const Stage& s) { return s->all_iter_vars; },
                             "Every axis the stage has had: the original ones and those split/fuse made.")
      .def_property_readonly("attach_type", [](const Stage& s) { return attach_name(s->attach_type); },
                             "Where the stage is computed: \"root\", \"inline\" or \"scope\" (compute_at).")
      .def_property_readonly("scope", [](const Stage& s) { return s->scope; },
                             "The storage scope of the stage's output: \"global\", \"local\" or \"shared\".")
      .def("split", [](Stage& s, py::handle parent, py::handle factor, py::handle nparts) {
        std::string what = "stage " + s.name() + " split";
        IterVar iv = to_iter_var(parent, what);
        if (factor.is_none() == nparts.is_none()) fail(what, ": give exactly one of factor= and nparts=");
        auto parts = factor.is_none() ? s.split_nparts(iv, to_int(nparts, what + " nparts"))
                                      : s.split(iv, to_int(factor, what + " factor"));
        return py::make_tuple(parts.first, parts.second);
      }, py::arg("parent"), py::arg("factor") = py::none(), py::arg("nparts") = py::none(),
         "Splits parent into (outer, inner) by factor (inner extent) or nparts (outer extent).")
      .def("tile", [](Stage& s, py::handle x, py::handle y, py::handle xf, py::handle yf) {
        std::string what = "stage " + s.name() + " tile";
        auto r = s.tile(to_iter_var(x, what), to_iter_var(y, what), to_int(xf, what + " x_factor"), to_int(yf, what + " y_factor"));
        return py::make_tuple(r[0], r[1], r[2], r[3]);
      }, py::arg("x_parent"), py::arg("y_parent"), py::arg("x_factor"), py::arg("y_factor"),
         "Tiles two axes; returns (x_outer, y_outer, x_inner, y_inner) in that loop order.")
      .def("fuse", [](Stage& s, py::args axes) {
        std::string what = "stage " + s.name() + " fuse";
        if (axes.size() == 1 && (py::isinstance<py::list>(axes[0]) || py::isinstance<py::tuple>(axes[0]))) axes = py::tuple(axes[0]);
        if (axes.size() < 1) fail(what, ": give at least one axis");
        IterVar fused = to_iter_var(axes[0], what);
        for (size_t i = 1; i < axes.size(); ++i) fused = s.fuse(fused, to_iter_var(axes[i], what));
        return fused;
      }, "Fuses adjacent axes (outermost first) into one.")
      .def("reorder", [](Stage& s, py::args axes) {
        std::string what = "stage " + s.name() + " reorder";
        if (axes.size() == 1 && (py::isinstance<py::list>(axes[0]) || py::isinstance<py::tuple>(axes[0]))) axes = py::tuple(axes[0]);
        std::vector<IterVar> order;
        for (py::handle a : axes) order.push_back(to_iter_var(a, what));
        s.reorder(order);
      }, "Reorders the given leaf axes among the positions they occupy.")
      .def("vectorize", [](Stage& s, py::handle iv) { s.vectorize(to_iter_var(iv, "stage " + s.name() + " vectorize")); }, py::arg("var"),
           "Turns the loop over var (usually the innermost, with a constant extent) into SIMD vector "
           "operations; a non-divisible tail stays scalar.")
      .def("unroll", [](Stage& s, py::handle iv) { s.unroll(to_iter_var(iv, "stage " + s.name() + " unroll")); }, py::arg("var"),
           "Replicates the body of the loop over var once per iteration (needs a constant extent).")
      .def("parallel", [](Stage& s, py::handle iv) { s.parallel(to_iter_var(iv, "stage " + s.name() + " parallel")); }, py::arg("var"),
           "Runs the iterations of the loop over var on the CPU thread pool (TE_NUM_THREADS threads); "
           "give it an outer loop with enough work per iteration.")
      .def("bind", [](Stage& s, py::handle iv, py::handle thread) {
        std::string what = "stage " + s.name() + " bind";
        s.bind(to_iter_var(iv, what), to_iter_var(thread, what + " thread"));
      }, py::arg("ivar"), py::arg("thread_ivar"),
         "Binds the loop over ivar to a GPU thread axis (te.thread_axis(\"blockIdx.x\"), "
         "\"threadIdx.x\", ...); only for target \"cuda\" (on a CPU use parallel()).")
      .def("pragma", [](Stage& s, py::handle iv, const std::string& key, py::handle value) {
        std::string what = "stage " + s.name() + " pragma";
        s.pragma(to_iter_var(iv, what), key, value.is_none() ? Expr(1) : to_expr(value, what + " value"));
      }, py::arg("var"), py::arg("pragma_type"), py::arg("pragma_value") = py::none(),
         "Annotates the loop over var with pragma_type (value pragma_value, default 1): lowering wraps "
         "the loop in an attribute pragma_<pragma_type>, recorded in the steps; a hint that the code "
         "generators may ignore. \"nontemporal\" (llvm, x86): the loop's vector stores to the kernel's "
         "arguments become streaming stores where their address is aligned — for outputs far larger "
         "than the caches, not read again soon.")
      .def("prefetch", [](Stage& s, py::handle tensor, py::handle var, int64_t offset, py::handle spread) {
        std::string what = "stage " + s.name() + " prefetch";
        if (!py::isinstance<Tensor>(tensor)) fail(what, ": the first argument must be a tensor the stage reads");
        IterVar spread_iv = spread.is_none() ? IterVar() : to_iter_var(spread, what + " (spread)");
        s.prefetch(tensor.cast<Tensor>(), to_iter_var(var, what), offset, spread_iv);
      }, py::arg("tensor"), py::arg("var"), py::arg("offset"), py::arg("spread") = py::none(),
         "At the start of each iteration of the loop over var, prefetches into the cache what the "
         "loop's body reads of tensor offset (>= 1) iterations later (TVM's prefetch): for loads the "
         "hardware prefetcher does not see coming, such as the input rows of a pooling window. llvm "
         "emits one prefetch per cache line (indices clamped inside the tensor); cuda drops it. "
         "spread (a leaf inside var): the region is split into rows spread evenly over the iterations "
         "of the loops down to spread, each fetching its share first — the next block of a GEMM's B "
         "trickling in while the current block is computed.")
      .def("storage_align", [](Stage& s, py::handle axis, int64_t factor, int64_t offset) {
        s.storage_align(to_iter_var(axis, "stage " + s.name() + " storage_align"), factor, offset);
      }, py::arg("axis"), py::arg("factor"), py::arg("offset"),
         "Pads this stage's buffer so the stride of axis's dimension (axis is one of s[T].op.axis) "
         "satisfies stride % factor == offset, e.g. storage_align(AS.op.axis[0], 32, 1) keeps the "
         "rows of a shared tile off one memory bank. Only for buffers lowering allocates (cache "
         "stages, intermediates); recorded in the steps.")
      .def("tensorize", [](Stage& s, py::handle iv, const std::string& intrinsic) {
        s.tensorize(to_iter_var(iv, "stage " + s.name() + " tensorize"), intrinsic);
      }, py::arg("var"), py::arg("intrinsic"),
         "Replaces the loop nest from var inward with one tensor-core operation (target cuda, sm_70+). "
         "intrinsic 'wmma': a 16x16 copy into a 'wmma.matrix_a'/'wmma.matrix_b' stage, the 16x16 init "
         "or 16x16x16 multiply-accumulate of a 'wmma.accumulator' reduction, or a 16x16 copy out of it; "
         "float16 inputs, float32 accumulation. Recorded in the steps.")
      .def("double_buffer", &Stage::double_buffer,
           "Double-buffers this shared-memory stage (target cuda; TVM's double_buffer): computed at a "
           "serial loop of its reader (the loop over k blocks), it gets two buffers, and each "
           "iteration loads the next block into registers before the reads and stores it into the "
           "other buffer after them (on sm_80 and newer: cp.async straight into the other buffer): "
           "the global loads overlap the arithmetic, one barrier per iteration. Recorded in the steps.")
      .def("pipeline", &Stage::pipeline, py::arg("stages"),
           "A deeper double_buffer (Triton's num_stages): `stages` buffers (2..8) of this shared-memory "
           "stage, and on sm_80 and newer the next stages - 1 blocks copied by cp.async while the current "
           "one is computed on; below sm_80 it runs as double_buffer. Recorded in the steps.")
      .def("compute_at", [](Stage& s, py::handle parent, py::handle scope) {
        std::string what = "stage " + s.name() + " compute_at";
        if (!py::isinstance<Stage>(parent)) fail(what, ": the first argument must be a stage, s[T]");
        s.compute_at(parent.cast<Stage>(), to_iter_var(scope, what));
      }, py::arg("parent"), py::arg("scope"),
         "Computes this stage inside the loop over scope of the consumer stage parent (s[C]), just "
         "the region that one iteration of scope needs.")
      .def("compute_inline", [](Stage& s) { s.compute_inline(); },
           "Substitutes this (element-wise, non-reduction) stage's expression into its consumers, so "
           "no buffer is made for it.")
      .def("compute_root", [](Stage& s) { s.compute_root(); },
           "Computes this stage in a loop nest of its own at the top of the function (undoes compute_at "
           "and compute_inline).")
      .def("__eq__", [](const Stage& a, py::handle b) { return py::isinstance<Stage>(b) && b.cast<Stage>().same_as(a); })
      .def("__hash__", [](const Stage& s) { return std::hash<const void*>()(s.get()); })
      .def("__repr__", [](const Stage& s) {
        std::string leaves;
        for (const IterVar& iv : s->leaf_iter_vars) leaves += (leaves.empty() ? "" : ", ") + iv.var().name();
        return "stage(" + s.name() + ", leaves=[" + leaves + "], attach=" + attach_name(s->attach_type) +
               (s->scope == "global" ? "" : ", scope=" + s->scope) + ")";
      });

  py::class_<Schedule>(m, "Schedule", "How a set of operations is computed; s[T] gives a stage.")
      .def("__getitem__", [](const Schedule& s, py::handle key) {
        if (py::isinstance<Stage>(key)) return key.cast<Stage>();
        return s[to_operation(key, "schedule[...]")];
      })
      .def_property_readonly("stages", [](const Schedule& s) { return s.stages(); },
                             "Every stage, producers before consumers.")
      .def_property_readonly("outputs", [](const Schedule& s) { return s->outputs; },
                             "The output operations the schedule was created for.")
      .def("cache_read", [](Schedule& s, const Tensor& t, const std::string& scope, py::handle readers) {
        return s.cache_read(t, scope, to_operation_list(readers, "cache_read " + t.name() + " readers"));
      }, py::arg("tensor"), py::arg("scope"), py::arg("readers"),
         "Adds a stage that copies tensor into a buffer of scope (\"local\", \"shared\", \"global\") and "
         "makes the readers (operations or tensors) read the copy; returns the cache tensor. Place "
         "it with s[cache].compute_at(...).")
      .def("cache_write", [](Schedule& s, const Tensor& t, const std::string& scope) { return s.cache_write(t, scope); },
           py::arg("tensor"), py::arg("scope"),
           "Computes tensor into a new buffer of scope (e.g. \"local\" accumulators) and copies it to "
           "tensor afterwards; returns the cache tensor, whose stage takes the original computation.")
      .def("rfactor", [](Schedule& s, const Tensor& t, py::handle axis, int factor_axis) {
        return s.rfactor(t, to_iter_var(axis, "rfactor " + t.name()), factor_axis);
      }, py::arg("tensor"), py::arg("axis"), py::arg("factor_axis") = 0,
         "Factors the reduction of tensor over the reduction axis `axis` (usually one part of a split) "
         "into a new stage whose result has that axis as a data dimension at position factor_axis; "
         "tensor then reduces the partial results. Returns the rfactor tensor.")
      .def("steps_json", &Schedule::steps_json, "The primitives applied so far, as JSON.")
      .def("steps_python", &Schedule::steps_python, "The primitives applied so far, as Python that replays them.")
      .def("__repr__", [](const Schedule& s) {
        std::string out = "Schedule(stages=[";
        for (size_t i = 0; i < s.stages().size(); ++i) out += (i ? ", " : "") + s.stages()[i].name();
        return out + "], steps=" + std::to_string(s.steps().size()) + ")";
      });

  m.def("create_schedule", [](py::handle ops) { return create_schedule(to_operation_list(ops, "te.create_schedule")); },
        py::arg("ops"), "A default schedule of the given output operation(s) (tensors are accepted too).");
  m.def("_replay", [](py::handle ops, const std::string& json) {
    return Schedule::replay(to_operation_list(ops, "replay"), Schedule::steps_from_json(json));
  });
}

}  // namespace te::python
