"""te.autotune — tune schedules by measuring them, AutoTVM-style templates or template-free.

Template style (you name the knobs)::

    import te, te.autotune as at

    @at.template("my_matmul")
    def my_matmul(N, M, K):
        A = te.placeholder((N, K), name="A"); B = te.placeholder((K, M), name="B")
        k = te.reduce_axis((0, K), name="k")
        C = te.compute((N, M), lambda i, j: te.sum(A[i, k] * B[k, j], axis=k), name="C")
        s = te.create_schedule(C.op)
        cfg = at.get_config()
        i, j = s[C].op.axis
        cfg.define_split("tile_i", i, num_outputs=2)
        cfg.define_split("tile_j", j, num_outputs=2, policy="power2")
        io, ii = cfg["tile_i"].apply(s, C, i)
        jo, ji = cfg["tile_j"].apply(s, C, j)
        return s, [A, B, C]

    task = at.create_task("my_matmul", args=(64, 64, 64), target="llvm")
    result = at.tune(task, trials=32, log="my_matmul.jsonl")
    with at.apply_history_best("my_matmul.jsonl"):
        s, args = my_matmul(64, 64, 64)          # the best schedule of the log

Template-free: ``task = at.auto_task([A, B, C])`` derives the space from the compute.

Templates run in this process (with the GIL) whenever the tuner instantiates a candidate;
candidates run in a child process (te_measure_runner), so a crashing kernel never takes
Python down. A template that raises te.TEError for a config marks that config illegal and
the search skips it; any other exception is recorded with its traceback and skipped too.
"""
import json as _json
import math as _math
import sys as _sys
import threading as _threading
import time as _time

from te import _core, TEError

_at = _core._autotune

__all__ = [
    "template", "get_config", "create_task", "auto_task", "Task", "Config", "Record", "TuneResult",
    "tune", "refine", "RefineResult", "apply_history_best", "load_log", "plot_curve", "have_xgboost",
]

# The config of the template being instantiated (a stack: a template may build a task of
# another template while it runs), and the apply_history_best contexts, per thread.
_state = _threading.local()


def _config_stack():
    if not hasattr(_state, "configs"):
        _state.configs = []
    return _state.configs


def _history_stack():
    if not hasattr(_state, "history"):
        _state.history = []
    return _state.history


def have_xgboost():
    """Whether te was built with XGBoost (needed by tuner="xgb" and "evolutionary")."""
    return _at.have_xgboost()


# ------------------------------------------------------------------------------ configs

class _Entity:
    """The chosen entry of one knob in a config: cfg["name"]."""

    def __init__(self, config, knob):
        self._config = config
        self._knob = knob

    @property
    def name(self):
        return self._knob.name

    @property
    def value(self):
        """The chosen entry: split sizes, a permutation, annotation codes, or [value]."""
        return list(self._config._core().get(self._knob.name))

    def __repr__(self):
        return f"{self.name}={self.value}"


class SplitEntity(_Entity):
    """A define_split choice: .size (outermost first; -1 means "the rest"), .apply()."""

    @property
    def size(self):
        return self.value

    def apply(self, s, op, axis):
        """Splits axis of s[op] by the chosen sizes; returns the new axes, outermost first."""
        return self._config.apply_split(self.name, s[op], axis)


class ReorderEntity(_Entity):
    """A define_reorder choice: .perm, .apply(s, op, axes) reorders and returns the axes."""

    @property
    def perm(self):
        return self.value

    def apply(self, s, op, axes):
        return self._config.apply_reorder(self.name, s[op], axes)


class AnnotateEntity(_Entity):
    """A define_annotate choice: .anns (0 none, 1 unroll, 2 vectorize, 3 parallel per axis)."""

    @property
    def anns(self):
        return self.value

    def apply(self, s, op, axes):
        self._config.apply_annotate(self.name, s[op], axes)


class OtherEntity(_Entity):
    """A define_knob choice: .val."""

    @property
    def val(self):
        return self._config._core().value(self.name)


_ENTITY_BY_KIND = {"split": SplitEntity, "reorder": ReorderEntity, "annotate": AnnotateEntity,
                   "other": OtherEntity}


class Config:
    """A point of a tuning space (AutoTVM's ConfigEntity), or the space while a template
    defines it (AutoTVM's ConfigSpace): the same define_* calls record the knobs the first
    time and return the candidate's choice afterwards."""

    def __init__(self, core_config, owner=None, target=None):
        self._config = core_config
        self._owner = owner  # what the config belongs to, for messages
        self.target = target  # the target being tuned for ("llvm", "cuda"), inside a template

    def _core(self):
        if self._config is None:
            raise TEError("te.autotune: this config was used after its template returned; "
                          "call te.autotune.get_config() inside the template and use it there")
        return self._config

    # ---- knobs (AutoTVM names)
    def define_split(self, name, axis, num_outputs=2, policy="factors", max_factor=0, candidates=None):
        """A knob splitting axis (an IterVar or an int extent) into num_outputs sizes.
        policy: "factors" (exact divisors), "power2" (inner sizes powers of two),
        "candidates" (the given full size tuples). max_factor bounds each inner size."""
        self._core().define_split(name, axis, int(num_outputs), policy, int(max_factor), candidates)
        return self[name]

    def define_reorder(self, name, axes, policy="all"):
        """A knob permuting axes: policy "all" or "identity_and_reverse"."""
        self._core().define_reorder(name, list(axes), policy)
        return self[name]

    def define_annotate(self, name, axes, policy):
        """A knob annotating each axis: "try_unroll", "try_vec", "try_unroll_vec", "try_parallel"."""
        self._core().define_annotate(name, list(axes), policy)
        return self[name]

    def define_knob(self, name, values):
        """A knob choosing one of the integer values; returns the chosen value."""
        return self._core().define_knob(name, [int(v) for v in values])

    # ---- applying choices
    def apply_split(self, name, stage, axis):
        """Splits axis of stage (s[C]) by knob name's sizes; returns the axes, outermost first."""
        return self._core().apply_split(name, stage, axis)

    def apply_reorder(self, name, stage, axes):
        """Reorders axes of stage by knob name's permutation; returns the axes in the new order."""
        return self._core().apply_reorder(name, stage, list(axes))

    def apply_annotate(self, name, stage, axes):
        """Applies knob name's annotation (unroll, vectorize, parallel or none) to each axis of stage."""
        self._core().apply_annotate(name, stage, list(axes))

    def value(self, name):
        """The value a define_knob knob chose."""
        return self._core().value(name)

    def get(self, name):
        """The chosen entry of any knob, as a list of ints."""
        return list(self._core().get(name))

    def __getitem__(self, name):
        for knob in self._core().knobs:
            if knob.name == name:
                return _ENTITY_BY_KIND[knob.kind](self, knob)
        names = ", ".join(k.name for k in self._core().knobs) or "none"
        raise TEError(f"te.autotune config: no knob named {name!r} (defined: {names})")

    # ---- the space
    @property
    def is_space(self):
        """True while a template defines the space; False for one point of it."""
        return self._core().is_space

    @property
    def knobs(self):
        """The knobs defined so far, each with its name, kind and choices."""
        return list(self._core().knobs)

    @property
    def space_size(self):
        """The number of configs in the space (the product of the knobs' choice counts)."""
        return self._core().space_size

    def __len__(self):
        return self._core().space_size

    @property
    def index(self):
        """The config's flat index in the space (what logs store as config_index)."""
        return self._core().index()

    @property
    def choices(self):
        """The choice index of every knob, in definition order."""
        return list(self._core().choices)

    def to_json(self):
        """The config as JSON text, {"knob": choice index, ...} (what logs store)."""
        return self._core().to_json()

    def __str__(self):
        return repr(self) if self._core().is_space else str(self._core())

    def __repr__(self):
        config = self._core()
        if not config.is_space:
            return f"Config(#{config.index()}: {config})"
        lines = [f"ConfigSpace({self._owner or 'template'}, {len(config.knobs)} knobs, size {config.space_size})"]
        for i, knob in enumerate(config.knobs):
            shown = [knob.describe(c) for c in range(min(len(knob), 4))]
            more = ", ..." if len(knob) > 4 else ""
            lines.append(f"  {i}: {knob.name} ({knob.kind}, {len(knob)} choices): {', '.join(shown)}{more}")
        return "\n".join(lines)


def get_config():
    """The config of the template being instantiated. Call it inside a @template function."""
    stack = _config_stack()
    if not stack:
        raise TEError("te.autotune.get_config() is only available inside a @te.autotune.template "
                      "function while te instantiates it (create_task, tune, or a direct call)")
    return stack[-1]


# ------------------------------------------------------------------------------ templates

def _int_args(name, args):
    out = []
    for a in args:
        if isinstance(a, bool) or not hasattr(a, "__index__"):
            raise TEError(f"te.autotune template {name}: arguments must be integers (shapes, sizes), "
                          f"got {a!r}; encode other choices as integers")
        out.append(int(a.__index__()))
    return out


def _noted_default(key):
    noted = getattr(_state, "noted", None)
    if noted is None:
        noted = _state.noted = set()
    if key not in noted:
        noted.add(key)
        print(f"te.autotune: no tuning record for {key}; using the template's default config "
              f"(the first choice of every knob)", file=_sys.stderr)


class TemplateFunction:
    """A function registered with @te.autotune.template(name).

    Called directly it returns (s, [tensors]): inside ``with apply_history_best(log)`` the
    best config of the log for its workload (name(args)), else the default config (the
    first choice of every knob; said once per workload)."""

    def __init__(self, name, func):
        self.name = name
        self.func = func
        self.__doc__ = func.__doc__
        self.__name__ = getattr(func, "__name__", name)
        self.__wrapped__ = func

    def _instantiate(self, core_config, args, target):
        """Called by C++ (with the GIL) to build the schedule for one config."""
        config = Config(core_config, owner=self.name, target=target)
        stack = _config_stack()
        stack.append(config)
        try:
            return self.func(*args)
        finally:
            stack.pop()
            config._config = None  # the C++ config dies when this returns

    def __call__(self, *args, target=None):
        history = _history_stack()
        context = history[-1] if history else None
        target = target or (context.target if context else "llvm")
        task = create_task(self.name, args, target)
        if context is not None:
            return context.instantiate(task)
        _noted_default(task.workload_key)
        return task.instantiate(0)

    def __repr__(self):
        return f"<te.autotune template {self.name!r} ({self.__name__})>"


def _builtin_templates():
    """te's operator library (matmul, conv2d, ...) as templates, registered on first use."""
    if not getattr(_builtin_templates, "done", False):
        try:
            _at.register_builtin_templates()
            _builtin_templates.done = True
        except TEError:
            pass  # a Python template already took one of their names; it stays


# Templates registered from Python in this process: re-registering one of them (a notebook
# cell run twice) replaces it, while a name taken by a C++ template (te's operator library)
# is refused unless replace=True says so.
_python_templates = set()


def template(name, replace=None):
    """Decorator registering a tuning template under name (AutoTVM style).

    The function takes the template's integer arguments, calls get_config() for the config,
    defines knobs on it (define_split, define_reorder, define_annotate, define_knob),
    applies them to a schedule and returns (s, [tensors]). Re-running the decorator (a
    notebook cell run twice) replaces the earlier Python function; a name already taken by
    a C++ template raises TEError unless replace=True."""
    if not isinstance(name, str) or not name:
        raise TEError("te.autotune.template: give the template a name, e.g. @te.autotune.template(\"my_op\")")

    def register(func):
        if not callable(func):
            raise TEError(f"te.autotune.template({name!r}) decorates a function, got {type(func).__name__}")
        _builtin_templates()
        wrapped = TemplateFunction(name, func)
        replacing = (name in _python_templates) if replace is None else bool(replace)
        _at.register_template(name, wrapped._instantiate, replacing)
        _python_templates.add(name)
        return wrapped
    return register


# ------------------------------------------------------------------------------ tasks

class Task:
    """What is tuned: a template (or a derived space) with its arguments and a target."""

    def __init__(self, core_task):
        self._task = core_task

    name = property(lambda self: self._task.name, doc="template name, or auto_<hash>")
    args = property(lambda self: list(self._task.args), doc="the template arguments")
    target = property(lambda self: self._task.target, doc="the target string, e.g. \"llvm\" or \"cuda\"")
    workload_key = property(lambda self: self._task.workload_key, doc="stable name of the workload in logs")
    flop = property(lambda self: self._task.flop, doc="floating-point operations of one call")

    @property
    def config_space(self):
        """The space (every knob); its repr lists them."""
        return Config(self._task.space, owner=f"{self.workload_key}, {self.target}")

    @property
    def space_size(self):
        """The number of configs in the task's space."""
        return self._task.space.space_size

    def config(self, which):
        """A config of this space from an index, a JSON text ({"knob": choice}) or a Config."""
        space = self._task.space
        if isinstance(which, Config):
            return which
        if isinstance(which, str):
            return Config(space.from_json(which))
        if isinstance(which, dict):
            return Config(space.from_json(_json.dumps(which)))
        if isinstance(which, bool) or not hasattr(which, "__index__"):
            raise TEError(f"task {self.workload_key}: a config is an index, a JSON text or a Config, got {which!r}")
        return Config(space.from_index(int(which)))

    def instantiate(self, config=0):
        """(s, [tensors]) for a config (index, JSON, dict or Config). TEError when illegal."""
        return self._task.instantiate(self.config(config)._core())

    def default_instance(self):
        """(s, [tensors]) of the unscheduled compute, the reference every candidate must match."""
        return self._task.default_instance()

    def replay(self, steps_json):
        """(s, [tensors]) with recorded schedule steps (a record's steps_json) replayed."""
        return self._task.replay(steps_json)

    def apply_history_best(self, log, quiet=False):
        """(s, [tensors]) of the best record of log for this task, else the default config."""
        return apply_history_best(log, target=self.target, quiet=quiet).instantiate(self)

    def __repr__(self):
        return (f"Task({self.workload_key}, target={self.target!r}, space_size={self.space_size}, "
                f"flop={self.flop:.4g})")


def create_task(name, args=(), target="llvm"):
    """A task for the template registered as name with integer args. TEError when unknown."""
    if isinstance(name, TemplateFunction):
        name = name.name
    _builtin_templates()
    if not _at.has_template(name):
        known = ", ".join(sorted(_at.template_names())) or "none"
        raise TEError(f"te.autotune.create_task: no template named {name!r} (registered: {known}); "
                      f"decorate a function with @te.autotune.template({name!r}) first")
    return Task(_at.create_task(name, _int_args(name, args), target))


def auto_task(tensors, target="llvm"):
    """A task with a space derived from the compute (no template): tensors are the kernel
    arguments, inputs first, outputs last."""
    return Task(_at.auto_task(list(tensors) if isinstance(tensors, (list, tuple)) else [tensors], target))


# ------------------------------------------------------------------------------ records

class Record:
    """One measured candidate (a line of a log)."""

    def __init__(self, core_record, task=None):
        self._record = core_record
        self._task = task

    workload_key = property(lambda self: self._record.workload_key, doc="the task's workload, e.g. matmul(512,512,512)")
    target = property(lambda self: self._record.target, doc="the target string it was measured for")
    hardware = property(lambda self: self._record.hardware, doc="the CPU model and threads, or the GPU, it ran on")
    config_index = property(lambda self: self._record.config_index, doc="the config's flat index in the space")
    config_json = property(lambda self: self._record.config_json, doc="the config as JSON, {\"knob\": choice index}")
    steps_json = property(lambda self: self._record.steps_json, doc="the schedule as replayable steps (JSON)")
    flop = property(lambda self: self._record.flop, doc="floating-point operations of one call")
    te_version = property(lambda self: self._record.te_version, doc="the te version that wrote the record")
    version = property(lambda self: self._record.version, doc="the record format version")
    gflops = property(lambda self: self._record.gflops, doc="GFLOP/s (0 for a failed candidate)")
    error_kind = property(lambda self: self._record.result.error_kind,
                          doc="none, instantiate, compile, runtime, timeout, wrong_answer or duplicate")
    error_message = property(lambda self: self._record.result.error_message,
                             doc="the first lines of the error (empty when it ran correctly)")
    costs = property(lambda self: list(self._record.result.costs), doc="seconds per call, one per repeat")
    mean_cost = property(lambda self: self._record.result.mean_cost, doc="mean seconds per call over the repeats")

    @property
    def config(self):
        """The config: readable ("tile_i=[-1, 8] ...") when the task is known, else the
        knob → choice-index mapping of the log."""
        if self._task is not None:
            return str(self._task.config(self.config_json))
        return _json.loads(self.config_json) if self.config_json else {}

    @property
    def steps_python(self):
        """The schedule as Python that replays it (needs the task: tune() results have it,
        load_log(path, task=...) attaches it)."""
        if self._task is None:
            raise TEError("record.steps_python needs the task: use load_log(path, task=task)")
        s, _ = self._task.replay(self.steps_json)
        return s.steps_python()

    def to_json_line(self):
        """The record as one line of a log (JSON, no newline)."""
        return self._record.to_json_line()

    def __repr__(self):
        status = f"{self.gflops:.2f} GFLOP/s" if self.error_kind == "none" else self.error_kind
        return f"Record({self.workload_key}, {self.target}, #{self.config_index}, {status})"


def load_log(path, task=None):
    """The records of a log (JSON lines); a missing file is an empty list, malformed lines
    (a torn last line) are skipped. With task, records of other workloads are dropped and
    each record can print its config and schedule."""
    records, _skipped = _at.read_log(str(path))
    if task is not None:
        records = [r for r in records if r.workload_key == task.workload_key]
    return [Record(r, task) for r in records]


class apply_history_best:  # noqa: N801 — a context manager named like the function users know
    """``with apply_history_best(log, target="llvm"):`` template functions called directly
    use the best valid record of log for their workload; ``.instantiate(task)`` does the
    same for any task (auto tasks included). Without a record the default config is used
    and said once per workload (quiet=True says nothing)."""

    def __init__(self, log, target="llvm", quiet=False):
        self.log = str(log)
        self.target = target
        self.quiet = quiet
        self._records = None

    def _load(self):
        if self._records is None:
            self._records, _ = _at.read_log(self.log)
        return self._records

    def best(self, task):
        """The best valid Record of the log for task, or None."""
        found = _at.best_record(self._load(), task.workload_key, task.target)
        return Record(found, task) if found is not None else None

    def instantiate(self, task):
        """(s, [tensors]) of task's best record, or of its default config."""
        if self.best(task) is None:
            if not self.quiet:
                _noted_default(task.workload_key)
            return task.instantiate(0)
        return _at.apply_history_best(self.log, task._task)

    def __enter__(self):
        self._records = None  # read the log afresh: it may have grown since
        _history_stack().append(self)
        return self

    def __exit__(self, *exc):
        _history_stack().remove(self)
        return False


# ------------------------------------------------------------------------------ tuning

class TuneResult:
    """What tune() found: .best (a Record or None), .curve (best-so-far GFLOP/s after each
    trial, resumed trials first), .trials_measured, .trials_resumed, .errors, .tuner."""

    def __init__(self, core_result, task, tuner):
        self._result = core_result
        self.task = task
        self.tuner = tuner
        self.best = Record(core_result.best, task) if core_result.best is not None else None
        self.curve = list(core_result.best_gflops_curve)
        self.trials_measured = core_result.trials_measured
        self.trials_resumed = core_result.trials_resumed
        self.errors = core_result.errors

    @property
    def best_gflops(self):
        """The best GFLOP/s found (0.0 when no candidate was valid)."""
        return self.best.gflops if self.best is not None else 0.0

    def __repr__(self):
        return (f"TuneResult({self.task.workload_key}, tuner={self.tuner!r}, best={self.best_gflops:.2f} GFLOP/s, "
                f"measured={self.trials_measured}, resumed={self.trials_resumed}, errors={self.errors})")


class _ProgressBar:
    """One line on stderr (a notebook shows it too): trials, best GFLOP/s, errors, time left."""

    def __init__(self, label, stream=None):
        self.label = label
        self.stream = stream or _sys.stderr
        self.start = _time.monotonic()
        self.best = 0.0
        self.errors = 0
        self.first_done = None

    def __call__(self, done, total, record):
        if record.result.error_kind != "none":
            self.errors += 1
        self.best = max(self.best, record.gflops)
        elapsed = _time.monotonic() - self.start
        if self.first_done is None:
            self.first_done = done - 1  # trials resumed from the log before this run
        measured = done - self.first_done
        left = elapsed / measured * (total - done) if measured > 0 else 0.0
        width = 24
        filled = int(width * done / total) if total else width
        self.stream.write(f"\r{self.label} [{'#' * filled}{'.' * (width - filled)}] {done}/{total} "
                          f"best {self.best:.2f} GFLOP/s, {self.errors} errors, {elapsed:.0f}s, ~{left:.0f}s left ")
        self.stream.flush()

    def close(self, result=None):
        line = "\n"
        if result is not None and result.best is not None:
            line += (f"{self.label}: best {result.best.gflops:.2f} GFLOP/s with {result.best.config} "
                     f"({result.trials_measured} measured, {result.trials_resumed} resumed, {result.errors} errors)\n")
        self.stream.write(line)
        self.stream.flush()


def _check_positive(what, value, allow_zero=False, integer=True, where="te.autotune.tune"):
    kind = "integer" if integer else "number"
    ok = not isinstance(value, bool) and (hasattr(value, "__index__") if integer else isinstance(value, (int, float)))
    if not ok or _math.isnan(value) or value < 0 or (value == 0 and not allow_zero):
        raise TEError(f"{where}: {what} must be a {'non-negative' if allow_zero else 'positive'} {kind}, "
                      f"got {value!r}")


def tune(task, trials=100, log=None, tuner="xgb", seed=0, batch_size=8, early_stopping=0, timeout=10.0,
         progress=True, callbacks=(), epsilon=0.1, transfer_logs=(), repeat=3, number=1, min_repeat_ms=20.0,
         build_workers=0, cost_model="rank"):
    """Tunes task with `trials` measured candidates; returns a TuneResult.

    tuner: "xgb" (XGBoost rank model + simulated annealing), "evolutionary", "sa", "random"
    or "grid". log: a JSON-lines file that every record is appended to as it is measured;
    when it exists, tuning resumes from it without repeating measured configs. timeout:
    seconds a candidate may run before it is killed (recorded as a timeout). callbacks:
    functions f(done, total, record) called after each trial (an exception from one stops
    tuning and is raised here). early_stopping: stop after this many trials without
    improvement (0: never). cost_model: the XGBoost objective of the "xgb" and "evolutionary"
    tuners, "rank" (pairwise ranking, the default) or "regression". min_repeat_ms: each of the
    `repeat` timed repeats calls the kernel (number raised) until this many milliseconds have
    passed — 20 as in the autotune CLI, so a microsecond kernel is timed over many calls, not
    one (0: `number` calls per repeat). The GIL is released while the C++ loop runs."""
    if not isinstance(task, Task):
        raise TEError(f"te.autotune.tune: expected a Task (create_task / auto_task), got {type(task).__name__}")
    if not isinstance(tuner, str):
        raise TEError(f"te.autotune.tune: tuner must be a name (\"xgb\", \"evolutionary\", \"sa\", \"random\", "
                      f"\"grid\"), got {tuner!r}")
    for what, value in (("trials", trials), ("batch_size", batch_size), ("repeat", repeat), ("number", number)):
        _check_positive(what, value)
    for what, value in (("early_stopping", early_stopping), ("build_workers", build_workers), ("seed", seed)):
        _check_positive(what, value, allow_zero=True)
    _check_positive("timeout", timeout, integer=False)
    _check_positive("min_repeat_ms", min_repeat_ms, allow_zero=True, integer=False)
    if cost_model not in ("rank", "regression"):
        raise TEError(f"te.autotune.tune: cost_model must be \"rank\" or \"regression\", got {cost_model!r}")
    if not 0.0 <= epsilon <= 1.0:
        raise TEError(f"te.autotune.tune: epsilon (the random share of each batch) must be in [0, 1], got {epsilon!r}")
    if callable(callbacks):
        callbacks = [callbacks]
    callbacks = list(callbacks)
    for cb in callbacks:
        if not callable(cb):
            raise TEError(f"te.autotune.tune: every callback must be a function f(done, total, record), got {cb!r}")

    bar = _ProgressBar(f"tune {task.workload_key} [{tuner}]") if progress else None
    listeners = ([bar] if bar else []) + callbacks

    def callback(done, total, core_record):  # also where C++ lets Ctrl-C through
        wrapped = Record(core_record, task)
        for listener in listeners:
            listener(done, total, core_record if listener is bar else wrapped)
    result = None
    try:
        result = TuneResult(
            _at.tune(task._task, tuner, int(seed), int(trials), int(batch_size), int(early_stopping), float(epsilon),
                     "" if log is None else str(log), [str(p) for p in transfer_logs], callback, int(number),
                     int(repeat), float(min_repeat_ms), float(timeout), int(build_workers), cost_model),
            task, tuner)
    finally:
        if bar is not None:
            bar.close(result)
    return result


class RefineResult:
    """What refine() did: .best_before and .best (Records or None), .neighbours_measured,
    .remeasured."""

    def __init__(self, core_result, task):
        self.task = task
        self.best_before = Record(core_result.best_before, task) if core_result.best_before is not None else None
        self.best = Record(core_result.best, task) if core_result.best is not None else None
        self.neighbours_measured = core_result.neighbours_measured
        self.remeasured = core_result.remeasured

    def __repr__(self):
        gflops = lambda r: f"{r.gflops:.2f}" if r is not None else "none"  # noqa: E731
        return (f"RefineResult({self.task.workload_key}, best {gflops(self.best_before)} -> {gflops(self.best)} "
                f"GFLOP/s, neighbours={self.neighbours_measured}, remeasured={self.remeasured})")


def refine(task, log, top=4, rounds=2, max_neighbours=48, batch_size=8, seed=0, timeout=10.0, repeat=3, number=1,
           min_repeat_ms=20.0, build_workers=0):
    """After tune(): measures the best config's one-knob neighbours that the log lacks (at most
    max_neighbours, a seeded sample when there are more), then the `top` best configs `rounds`
    more times, all of them in each round. Every measurement is appended to log; once configs
    have three records, apply_history_best picks among them only, by their median records. On a
    shared machine one measurement reflects the moment it ran in, and a model-guided search may
    never try the one-knob changes of its best config. Returns a RefineResult; with no valid
    record in log nothing is measured."""
    if not isinstance(task, Task):
        raise TEError(f"te.autotune.refine: expected a Task (create_task / auto_task), got {type(task).__name__}")
    if log is None or str(log) == "":
        raise TEError("te.autotune.refine: log is required: the tuning log to rank and append to")
    for what, value in (("batch_size", batch_size), ("repeat", repeat), ("number", number)):
        _check_positive(what, value, where="te.autotune.refine")
    for what, value in (("top", top), ("rounds", rounds), ("max_neighbours", max_neighbours),
                        ("build_workers", build_workers), ("seed", seed)):
        _check_positive(what, value, allow_zero=True, where="te.autotune.refine")
    _check_positive("timeout", timeout, integer=False, where="te.autotune.refine")
    _check_positive("min_repeat_ms", min_repeat_ms, allow_zero=True, integer=False, where="te.autotune.refine")
    core = _at.refine(task._task, str(log), int(top), int(rounds), int(max_neighbours), int(batch_size), int(seed),
                      int(number), int(repeat), float(min_repeat_ms), float(timeout), int(build_workers))
    return RefineResult(core, task)


# ------------------------------------------------------------------------------ plotting

def plot_curve(results, ax=None, title=None):
    """Plots best-so-far GFLOP/s against trials for several tuning runs on one axes.

    results: a dict {label: TuneResult or list of GFLOP/s}, or a list of TuneResults
    (labelled by tuner). Returns the matplotlib Axes."""
    import matplotlib.pyplot as plt  # only needed here

    if isinstance(results, (TuneResult, _at.TuneResult)):
        results = [results]
    if isinstance(results, dict):
        items = list(results.items())
    else:
        items = [(getattr(r, "tuner", f"run {i}"), r) for i, r in enumerate(results)]
    if ax is None:
        _, ax = plt.subplots(figsize=(6, 4))
    for label, run in items:
        if isinstance(run, TuneResult):
            curve = run.curve
        elif isinstance(run, _at.TuneResult):
            curve = list(run.best_gflops_curve)
        else:
            curve = [float(v) for v in run]
        best = []
        for v in curve:  # best-so-far, whatever was passed
            best.append(v if not best else max(best[-1], v))
        ax.plot(range(1, len(best) + 1), best, label=str(label), drawstyle="steps-post")
    ax.set_xlabel("trials")
    ax.set_ylabel("best GFLOP/s so far")
    if title:
        ax.set_title(title)
    ax.grid(True, alpha=0.3)
    if items:
        ax.legend()
    return ax

