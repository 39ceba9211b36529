// src/python/bind_runtime.cc — lowering, building and calling kernels from Python. A kernel
// takes NumPy arrays (C-contiguous, exact dtype: never a silent copy that would lose an
// output; writeable where the kernel stores to them), te.nd arrays, or any object with
// __dlpack__ (the unversioned "dltensor" capsule). The GIL is released while compiling and
// while a kernel runs.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstring>
#include <memory>
#include <unordered_set>

#include "python/bindings.h"
#include "te/ir_functor.h"

namespace te::python {

namespace {

// Keeps what a DLTensor view of a Python object points into alive for one call.
struct ArgumentViews {
  std::vector<DLTensor> tensors;            // views made here (NumPy arrays)
  std::vector<std::vector<int64_t>> shapes; // their shapes
  std::vector<py::object> keep_alive;       // arrays and DLPack capsules
  std::vector<DLTensor*> pointers;
};

std::string arg_label(const Module& mod, size_t i) {
  const auto& args = mod.func().args;
  return "argument " + std::to_string(i) + (i < args.size() ? " (" + args[i].name + ")" : "") + " of kernel " +
         mod.func().name;
}

bool is_compact(const DLTensor& t) {
  if (!t.strides) return true;
  int64_t expected = 1;
  for (int d = t.ndim - 1; d >= 0; --d) {
    if (t.shape[d] != 1 && t.strides[d] != expected) return false;
    expected *= t.shape[d];
  }
  return true;
}

// The arguments the kernel writes: those whose buffer a Store of the lowered body targets
// (the outputs, and any intermediate tensor passed as an argument). Computed only when a
// read-only array is passed, so the common call pays nothing for it.
std::vector<bool> written_arguments(const LoweredFunc& func) {
  std::unordered_set<const VarNode*> stored;
  post_order_visit(
      func.body, [](const Expr&) {},
      [&](const Stmt& st) {
        if (const auto* store = st.as<StoreNode>()) stored.insert(store->buffer.get());
      });
  std::vector<bool> written;
  for (const BufferArg& a : func.args) written.push_back(stored.count(a.data.get()) > 0);
  return written;
}

void add_numpy(ArgumentViews& views, const py::array& arr, const std::string& label) {
  if (!(arr.flags() & py::array::c_style))
    fail(label, ": the NumPy array is not C-contiguous; pass numpy.ascontiguousarray(x) (te never copies "
         "arguments silently, since an output written into a copy would be lost)");
  DataType t;
  try {
    t = DataType::parse(py::str(arr.dtype()));
  } catch (const Error&) {
    fail(label, ": NumPy dtype ", std::string(py::str(arr.dtype())), " is not supported by te");
  }
  views.shapes.emplace_back(arr.shape(), arr.shape() + arr.ndim());
  DLTensor dl{};
  dl.data = const_cast<void*>(arr.data());
  dl.device = {kDLCPU, 0};
  dl.ndim = int(arr.ndim());
  dl.dtype = to_dlpack(t);
  dl.shape = views.shapes.back().data();
  dl.strides = nullptr;
  dl.byte_offset = 0;
  views.tensors.push_back(dl);
  views.keep_alive.push_back(arr);
}

void add_dlpack(ArgumentViews& views, py::handle obj, const std::string& label, size_t slot) {
  py::object capsule = obj.attr("__dlpack__")();
  if (!PyCapsule_IsValid(capsule.ptr(), "dltensor"))
    fail(label, ": __dlpack__ did not return an unversioned \"dltensor\" capsule (te reads DLPack 0.x)");
  auto* managed = static_cast<DLManagedTensor*>(PyCapsule_GetPointer(capsule.ptr(), "dltensor"));
  // The device is checked against the kernel's target by Module's argument checks.
  if (!is_compact(managed->dl_tensor))
    fail(label, ": the DLPack tensor is not compact row-major (strided view); make it contiguous first");
  // The capsule stays unconsumed, so its destructor frees the tensor after the call.
  views.keep_alive.push_back(capsule);
  views.pointers[slot] = &managed->dl_tensor;
}

// Builds one DLTensor* per argument. The NumPy views are placed after every push_back.
void collect_arguments(const Module& mod, const py::args& args, ArgumentViews& views) {
  views.pointers.assign(args.size(), nullptr);
  std::vector<std::pair<size_t, size_t>> numpy_slots;  // (argument, index in views.tensors)
  std::vector<bool> written;                           // filled at the first read-only array
  views.tensors.reserve(args.size());
  views.shapes.reserve(args.size());
  for (size_t i = 0; i < args.size(); ++i) {
    py::handle a = args[i];
    std::string label = arg_label(mod, i);
    if (py::isinstance<NDArray>(a)) {
      views.keep_alive.push_back(py::reinterpret_borrow<py::object>(a));
      views.pointers[i] = a.cast<NDArray*>()->dltensor();
    } else if (py::isinstance<py::array>(a)) {
      auto arr = py::reinterpret_borrow<py::array>(a);
      if (!arr.writeable()) {
        // A read-only input is fine; a read-only output would be written behind NumPy's back
        // (or, for a read-only np.memmap, fault on a page mapped without write permission).
        if (written.empty()) written = written_arguments(mod.func());
        if (i < written.size() && written[i])
          fail(label, ": the NumPy array is read-only (writeable=False, e.g. np.memmap(mode=\"r\") or a "
               "broadcast view) but the kernel writes this argument; pass a writeable array, e.g. "
               "numpy.empty_like(x) or x.copy()");
      }
      numpy_slots.emplace_back(i, views.tensors.size());
      add_numpy(views, arr, label);
    } else if (py::hasattr(a, "__dlpack__")) {
      add_dlpack(views, a, label, i);
    } else {
      fail(label, ": expected a NumPy array, a te.nd array or an object with __dlpack__, got ",
           std::string(py::str(py::type::of(a).attr("__name__"))));
    }
  }
  for (auto [arg, index] : numpy_slots) views.pointers[arg] = &views.tensors[index];
}

// The DLManagedTensor a te.nd array hands out: owns a copy of the NDArray handle (shared
// storage), so the memory outlives the Python object if the consumer keeps it.
struct ExportedArray {
  NDArray array;
  DLManagedTensor managed{};
};

py::capsule export_dlpack(const NDArray& array) {
  auto* exported = new ExportedArray{array, {}};
  exported->managed.dl_tensor = *exported->array.dltensor();
  exported->managed.manager_ctx = exported;
  exported->managed.deleter = [](DLManagedTensor* self) { delete static_cast<ExportedArray*>(self->manager_ctx); };
  // A consumer renames the capsule to "used_dltensor" and calls the deleter itself; an
  // unconsumed capsule frees the tensor here.
  PyObject* cap = PyCapsule_New(&exported->managed, "dltensor", [](PyObject* capsule) {
    if (PyCapsule_IsValid(capsule, "dltensor")) {
      auto* m = static_cast<DLManagedTensor*>(PyCapsule_GetPointer(capsule, "dltensor"));
      m->deleter(m);
    }
  });
  if (!cap) throw py::error_already_set();
  return py::reinterpret_steal<py::capsule>(cap);
}

// te.cpu(i) / te.cuda(i) (python/te/__init__.py's Device) → te::Device.
Device to_device(py::handle device, const std::string& who) {
  if (device.is_none()) return Device::cpu();
  if (!py::hasattr(device, "device_type") || !py::hasattr(device, "index"))
    fail(who, ": device must be te.cpu(i) or te.cuda(i), got ", std::string(py::str(py::type::of(device).attr("__name__"))));
  std::string type = py::str(device.attr("device_type"));
  int index = device.attr("index").cast<int>();
  if (type == "cpu") return Device::cpu(index);
  if (type == "cuda") {
    if (index < 0) fail(who, ": CUDA device index ", index, " is negative");
    return Device::cuda(index);
  }
  fail(who, ": device type '", type, "' is not supported; expected te.cpu() or te.cuda(i)");
}

py::object to_python_device(Device d) {
  return py::module_::import("te").attr(d.is_cuda() ? "cuda" : "cpu")(d.id);
}

NDArray ndarray_from_numpy(py::handle source, Device device) {
  py::module_ np = py::module_::import("numpy");
  py::array arr = np.attr("ascontiguousarray")(source);
  std::vector<int64_t> shape(arr.shape(), arr.shape() + arr.ndim());
  DataType t = to_dtype(arr.dtype(), "te.nd.array");
  NDArray out = NDArray::empty(shape, t, device);
  const void* src = arr.data();
  py::gil_scoped_release release;
  out.copy_from_host(src, out.nbytes());
  return out;
}

py::array ndarray_to_numpy(const NDArray& a) {
  py::dtype dt(a.dtype().str() == "bool" ? std::string("bool") : a.dtype().str());
  py::array out(dt, a.shape());
  void* dst = out.mutable_data();
  py::gil_scoped_release release;
  a.copy_to_host(dst, a.nbytes());
  return out;
}

// Takes over a producer's DLPack tensor without copying (CPU or CUDA): the capsule is renamed
// "used_dltensor" as the protocol asks, and its deleter runs when the last te array drops it.
NDArray ndarray_from_dlpack(py::handle obj) {
  py::object capsule = py::hasattr(obj, "__dlpack__") ? obj.attr("__dlpack__")() : py::reinterpret_borrow<py::object>(obj);
  if (!PyCapsule_IsValid(capsule.ptr(), "dltensor"))
    fail("te.nd.from_dlpack: expected an object with __dlpack__ (or an unused \"dltensor\" capsule), got ",
         std::string(py::str(py::type::of(obj).attr("__name__"))));
  auto* managed = static_cast<DLManagedTensor*>(PyCapsule_GetPointer(capsule.ptr(), "dltensor"));
  NDArray a = NDArray::from_dlpack(managed);  // throws before taking it: the capsule still owns it
  PyCapsule_SetName(capsule.ptr(), "used_dltensor");
  return a;
}

struct TimeResult {
  double mean = 0, median = 0, std = 0;
  std::vector<double> results;
};

TimeResult time_module(const Module& mod, const std::vector<DLTensor*>& args, int number, int repeat, double min_repeat_ms) {
  if (number < 1) fail("time_evaluator: number must be >= 1, got ", number);
  if (repeat < 1) fail("time_evaluator: repeat must be >= 1, got ", repeat);
  if (min_repeat_ms < 0) fail("time_evaluator: min_repeat_ms must be >= 0, got ", min_repeat_ms);
  using Clock = std::chrono::steady_clock;
  mod(args);  // warm-up (also checks the arguments once)
  TimeResult r;
  for (int rep = 0; rep < repeat; ++rep) {
    double seconds = 0;
    while (true) {
      auto start = Clock::now();
      for (int k = 0; k < number; ++k) mod(args);
      seconds = std::chrono::duration<double>(Clock::now() - start).count();
      if (seconds * 1e3 >= min_repeat_ms || number > (1 << 24)) break;
      // Too short: scale the call count towards min_repeat_ms, as TVM does.
      double scale = seconds > 0 ? min_repeat_ms / (seconds * 1e3) * 1.2 : 2.0;
      number = std::max(number + 1, int(std::min(double(1 << 24), number * std::max(scale, 2.0))));
    }
    r.results.push_back(seconds / number);
  }
  for (double v : r.results) r.mean += v;
  r.mean /= r.results.size();
  for (double v : r.results) r.std += (v - r.mean) * (v - r.mean);
  r.std = std::sqrt(r.std / r.results.size());
  std::vector<double> sorted = r.results;
  std::sort(sorted.begin(), sorted.end());
  size_t n = sorted.size();
  r.median = n % 2 ? sorted[n / 2] : (sorted[n / 2 - 1] + sorted[n / 2]) / 2;
  return r;
}

std::vector<Tensor> to_tensor_list(py::handle value, const std::string& what) {
  std::vector<Tensor> out;
  if (!(py::isinstance<py::list>(value) || py::isinstance<py::tuple>(value)))
    fail(what, ": args must be a list of tensors, e.g. [A, B, C]");
  for (py::handle h : value) {
    if (!py::isinstance<Tensor>(h))
      fail(what, ": every argument must be a tensor, got ", std::string(py::str(py::type::of(h).attr("__name__"))));
    out.push_back(h.cast<Tensor>());
  }
  return out;
}
}  // namespace

void bind_runtime(py::module_& m) {
  py::class_<NDArray>(m, "NDArray", "A CPU array owned by te (64-byte aligned); te.nd.array / te.nd.empty.")
      .def_property_readonly("shape", [](const NDArray& a) { return py::tuple(py::cast(a.shape())); },
                             "The shape as a tuple of ints.")
      .def_property_readonly("dtype", [](const NDArray& a) { return a.dtype().str(); }, "The element type, e.g. \"float32\".")
      .def_property_readonly("device", [](const NDArray& a) { return to_python_device(a.device()); },
                             "The device the array lives on: te.cpu(0) or te.cuda(i).")
      .def("numpy", &ndarray_to_numpy, "A NumPy copy of the array (copied from the device for a CUDA array).")
      .def("copyfrom", [](NDArray& a, py::handle source) {
        NDArray src = py::isinstance<NDArray>(source) ? source.cast<NDArray>() : ndarray_from_numpy(source, Device::cpu());
        if (src.shape() != a.shape() || src.dtype() != a.dtype())
          fail("NDArray.copyfrom: the source has shape ", std::string(py::str(py::tuple(py::cast(src.shape())))), " and dtype ",
               src.dtype().str(), "; the array ", std::string(py::str(py::tuple(py::cast(a.shape())))), " and ",
               a.dtype().str(), "; they must match");
        py::gil_scoped_release release;
        a.copy_from(src);
        return a;
      }, py::arg("source"),
         "Copies source (a te array on any device, a NumPy array, or anything numpy.asarray accepts; "
         "same shape and dtype) into this array; returns the array.")
      .def("copyto", [](const NDArray& a, py::handle target) -> NDArray {
        if (py::isinstance<NDArray>(target)) {
          NDArray dst = target.cast<NDArray>();
          if (dst.shape() != a.shape() || dst.dtype() != a.dtype())
            fail("NDArray.copyto: the target has dtype ", dst.dtype().str(), " and shape ",
                 std::string(py::str(py::tuple(py::cast(dst.shape())))), "; the array ", a.dtype().str(), " and ",
                 std::string(py::str(py::tuple(py::cast(a.shape())))), "; they must match");
          py::gil_scoped_release release;
          dst.copy_from(a);
          return dst;
        }
        Device device = to_device(target, "NDArray.copyto");
        py::gil_scoped_release release;
        return a.copy_to(device);
      }, py::arg("target"),
         "Copies this array into target: a te array of the same shape and dtype (returned), or a "
         "device (te.cpu(), te.cuda(i)): a new array there.")
      .def("__dlpack__", [](const NDArray& a, py::kwargs) { return export_dlpack(a); },
           "DLPack capsule sharing this array's memory (numpy.from_dlpack, torch.from_dlpack; a CUDA "
           "array is a kDLCUDA tensor, e.g. for torch.from_dlpack).")
      .def("__dlpack_device__", [](const NDArray& a) { return py::make_tuple(int(a.device().type), a.device().id); },
           "(device type, index) in DLPack's numbering: (1, 0) for the CPU, (2, i) for cuda(i).")
      .def("__repr__", [](const NDArray& a) {
        return "<te.nd.NDArray shape=" + std::string(py::str(py::tuple(py::cast(a.shape())))) + " dtype=" +
               a.dtype().str() + ">\n" + std::string(py::str(ndarray_to_numpy(a)));
      });
  m.def("_nd_array", [](py::handle source, py::handle device) {
    return ndarray_from_numpy(source, to_device(device, "te.nd.array"));
  });
  m.def("_nd_from_dlpack", &ndarray_from_dlpack);
  m.def("_cuda_device_count", [] { return cuda_device_count(); });
  m.def("_backend_built", &backend_built, py::arg("kind"));
  m.def("_cuda_device_name", [](int index) { return cuda_device_name(index); });
  m.def("_nd_empty", [](py::handle shape, py::handle dtype, py::handle device) {
    std::vector<int64_t> dims;
    if (py::isinstance<py::int_>(shape)) {
      dims.push_back(shape.cast<int64_t>());
    } else {
      for (py::handle h : shape) dims.push_back(h.attr("__index__")().cast<int64_t>());
    }
    return NDArray::empty(dims, to_dtype(dtype, "te.nd.empty"), to_device(device, "te.nd.empty"));
  });

  py::class_<LoweredFunc>(m, "LoweredFunc", "The loop program te.lower produced; print() shows it.")
      .def_readonly("name", &LoweredFunc::name, "The function's name (te.lower's name=).")
      .def_property_readonly("arg_names", [](const LoweredFunc& f) {
        std::vector<std::string> names;
        for (const BufferArg& a : f.args) names.push_back(a.name);
        return names;
      }, "The names of the function's buffer arguments, in call order.")
      .def("__str__", [](const LoweredFunc& f) { return to_string(f); })
      .def("__repr__", [](const LoweredFunc& f) { return to_string(f); });

  py::class_<TimeResult>(m, "TimeResult", "Seconds per call: mean, median, std and every repeat's result.")
      .def_readonly("mean", &TimeResult::mean, "Mean seconds per call over the repeats.")
      .def_readonly("median", &TimeResult::median, "Median seconds per call over the repeats.")
      .def_readonly("std", &TimeResult::std, "Standard deviation of the repeats' seconds per call.")
      .def_readonly("results", &TimeResult::results, "Seconds per call of each repeat.")
      .def("__repr__", [](const TimeResult& r) {
        char buf[160];
        std::snprintf(buf, sizeof buf, "TimeResult(mean=%.3g s, median=%.3g s, std=%.3g s, repeat=%zu)", r.mean,
                      r.median, r.std, r.results.size());
        return std::string(buf);
      });

  py::class_<Module>(m, "Module", "A compiled kernel: call it with one array per argument; outputs are written in place.")
      .def("__call__", [](const Module& mod, py::args args) {
        ArgumentViews views;
        collect_arguments(mod, args, views);
        py::gil_scoped_release release;
        mod(views.pointers);
      })
      .def("emulate", [](const Module& mod, py::args args) {
        ArgumentViews views;
        collect_arguments(mod, args, views);
        py::gil_scoped_release release;
        cuda_emulate(mod, views.pointers);
      },
           "Runs a module built for target \"cuda\" on host arrays in te's CUDA emulator (CPU, no GPU needed): "
           "every block, threads in lockstep at barriers, shuffles as printed; raises TEError on a shared/global "
           "memory race, an out-of-bounds access or a barrier in divergent control flow. Checks the lowered "
           "schedule, not the NVRTC binary; slow, so use small shapes.")
      .def_property_readonly("name", [](const Module& mod) { return mod.func().name; },
                             "The kernel's name (te.build's name=).")
      .def_property_readonly("target", [](const Module& mod) { return mod.target().str(); },
                             "The target the kernel was compiled for, e.g. \"llvm\" or \"cuda\".")
      .def_property_readonly("lowered", [](const Module& mod) { return mod.func(); },
                             "The LoweredFunc (loop IR) the kernel was compiled from.")
      .def("get_source", [](const Module& mod, const std::string& fmt) {
        py::gil_scoped_release release;
        return mod.get_source(fmt);
      }, py::arg("fmt") = "ll",
         "The kernel's source: for target llvm \"ll\" (LLVM IR) or \"asm\" (assembly); for target cuda "
         "\"cuda\" (CUDA C) or \"ptx\"; \"lowered\" (the loop IR) for both. get_binary(\"cubin\") gives "
         "a CUDA cubin.")
      .def("get_binary", [](const Module& mod, const std::string& fmt) {
        if (fmt != "cubin") fail("Module.get_binary: format '", fmt, "' is not binary; expected \"cubin\" (target cuda)");
        std::string image;
        {
          py::gil_scoped_release release;
          image = mod.get_source(fmt);
        }
        return py::bytes(image);
      }, py::arg("fmt") = "cubin",
         "The compiled machine code as bytes: \"cubin\" (target cuda; needs a real architecture, "
         "target \"cuda -arch=sm_NN\" or the default).")
      .def("save_object", [](const Module& mod, const std::string& path) { mod.save_object(path); }, py::arg("path"),
           "Writes the compiled kernel as a relocatable object file (.o) to path, to link into a "
           "program; export_library writes a loadable shared library instead.")
      .def("export_library", [](const Module& mod, const std::string& path) { mod.export_shared_library(path); },
           py::arg("path"), "Writes a shared library with the C entry point <name>(DLTensor**, int32_t).")
      .def("_time", [](const Module& mod, int number, int repeat, double min_repeat_ms, py::args args) {
        ArgumentViews views;
        collect_arguments(mod, args, views);
        py::gil_scoped_release release;
        return time_module(mod, views.pointers, number, repeat, min_repeat_ms);
      })
      .def("__repr__", [](const Module& mod) {
        std::string names;
        for (const BufferArg& a : mod.func().args) names += (names.empty() ? "" : ", ") + a.name;
        return "Module(" + mod.func().name + "(" + names + "), target=\"" + mod.target().str() + "\")";
      });

  m.def("lower", [](const Schedule& s, py::handle args, const std::string& name, bool simple_mode,
                    const std::string& target) {
    std::vector<Tensor> tensors = to_tensor_list(args, "te.lower " + name);
    LowerOptions options;
    options.simple_mode = simple_mode;
    options.target = Target::parse(target);
    py::gil_scoped_release release;
    return lower(s, tensors, name, options);
  }, py::arg("sch"), py::arg("args"), py::arg("name") = "main", py::arg("simple_mode") = false,
     py::arg("target") = "llvm",
     "Lowers a schedule to the loop IR for a target (\"llvm ...\" or \"cuda ...\": a GPU schedule's IR "
     "with its thread loops, barriers, cp.async copies); print() the result to read it.");
  m.def("build", [](const Schedule& s, py::handle args, const std::string& target, const std::string& name) {
    std::vector<Tensor> tensors = to_tensor_list(args, "te.build " + name);
    py::gil_scoped_release release;
    return build(s, tensors, target, name);
  }, py::arg("sch"), py::arg("args"), py::arg("target") = "llvm", py::arg("name") = "default_function",
     "Lowers and compiles a schedule into a callable Module (target \"llvm ...\" or \"cuda ...\").");
}

}  // namespace te::python
