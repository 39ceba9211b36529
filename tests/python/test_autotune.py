"""te.autotune from Python: templates with knobs, tasks, tuning for real on tiny shapes,
logs and resume, apply_history_best, and the errors a user can make."""
import math

import numpy as np
import pytest

import te
import te.autotune as at


def matmul_compute(N, M, K):
    A = te.placeholder((N, K), name="A")
    B = te.placeholder((K, M), name="B")
    k = te.reduce_axis((0, K), name="k")
    C = te.compute((N, M), lambda i, j: te.sum(A[i, k] * B[k, j], axis=k), name="C")
    return A, B, C


@at.template("pytest_matmul")
def py_matmul(N, M, K):
    A, B, C = matmul_compute(N, M, K)
    s = te.create_schedule(C.op)
    cfg = at.get_config()
    i, j = C.op.axis
    (k,) = C.op.reduce_axis
    cfg.define_split("tile_i", i, num_outputs=2)
    cfg.define_split("tile_j", j, num_outputs=2, policy="power2", max_factor=16)
    cfg.define_knob("vec", [0, 1])
    io, ii = cfg["tile_i"].apply(s, C, i)
    jo, ji = cfg["tile_j"].apply(s, C, j)
    s[C].reorder(io, jo, k, ii, ji)
    if cfg["vec"].val:
        s[C].vectorize(ji)
    return s, [A, B, C]


@at.template("pytest_picky")
def picky_matmul(N, M, K):
    """Rejects odd inner tiles the way a template rejects configs it cannot apply."""
    A, B, C = matmul_compute(N, M, K)
    s = te.create_schedule(C.op)
    cfg = at.get_config()
    i, _ = C.op.axis
    cfg.define_split("tile_i", i, num_outputs=2)
    cfg.define_knob("boom", [0, 1])
    if not cfg.is_space and cfg["boom"].val == 1:
        raise te.TEError("pytest_picky: boom=1 is not supported")
    cfg["tile_i"].apply(s, C, i)
    return s, [A, B, C]


def random_inputs(rng, *shapes):
    return [rng.standard_normal(shape).astype("float32") for shape in shapes]


def check_matmul(schedule_and_args, N, M, K, rng):
    s, args = schedule_and_args
    f = te.build(s, args, target="llvm")
    a, b = random_inputs(rng, (N, K), (K, M))
    c = np.full((N, M), np.nan, dtype="float32")
    f(a, b, c)
    np.testing.assert_allclose(c, a @ b, rtol=1e-4, atol=1e-4)


def divisors(n):
    return [d for d in range(1, n + 1) if n % d == 0]


# ------------------------------------------------------------------------------ spaces

def test_template_space_and_workload_key():
    task = at.create_task("pytest_matmul", args=(12, 16, 8), target="llvm")
    assert task.workload_key == "pytest_matmul(12,16,8)"
    assert task.args == [12, 16, 8]
    assert math.isclose(task.flop, 2 * 12 * 16 * 8, rel_tol=0.01)
    knobs = task.config_space.knobs
    assert [k.name for k in knobs] == ["tile_i", "tile_j", "vec"]
    assert [k.kind for k in knobs] == ["split", "split", "other"]
    # tile_i enumerates the divisors of 12 as inner sizes; power2 inner sizes of 16 up to 16.
    assert sorted(c[1] for c in knobs[0].choices) == divisors(12)
    assert sorted(c[1] for c in knobs[1].choices) == [1, 2, 4, 8, 16]
    assert task.space_size == len(divisors(12)) * 5 * 2
    text = repr(task.config_space)
    assert "tile_i" in text and "tile_j" in text and str(task.space_size) in text


def test_config_round_trip_and_instances_match_numpy(rng):
    task = at.create_task("pytest_matmul", args=(12, 16, 8))
    for index in (0, 7, task.space_size - 1):
        cfg = task.config(index)
        assert cfg.index == index
        assert task.config(cfg.to_json()).index == index
        assert task.config(cfg.to_json()).choices == cfg.choices
        check_matmul(task.instantiate(cfg), 12, 16, 8, rng)
    # The chosen sizes reach the schedule: the inner tile of tile_i has the chosen extent.
    cfg = task.config(task.space_size - 1)
    s, _ = task.instantiate(cfg)
    assert "split" in s.steps_python()
    assert str(cfg.get("tile_i")[1]) in s.steps_python()


def test_builtin_operator_templates_are_available():
    task = at.create_task("matmul", args=(16, 16, 16))
    assert task.workload_key == "matmul(16,16,16)" and task.space_size > 1


def test_python_exception_in_template_becomes_teerror_with_traceback(tmp_path):
    @at.template("pytest_buggy")
    def buggy(n):
        A = te.placeholder((n,), name="A")
        B = te.compute((n,), lambda i: A[i] * 2, name="B")
        cfg = at.get_config()
        cfg.define_knob("x", [1, 2])
        if not cfg.is_space:
            1 / 0  # noqa: B018 — a bug in the user's template
        return te.create_schedule(B.op), [A, B]

    task = at.create_task("pytest_buggy", (8,))
    with pytest.raises(te.TEError, match="ZeroDivisionError"):
        task.instantiate(0)
    # While tuning, the bug is recorded (exception first, then the traceback) and skipped.
    result = at.tune(task, trials=2, tuner="grid", log=tmp_path / "buggy.jsonl", progress=False)
    assert result.best is None and result.errors == 2
    records = at.load_log(tmp_path / "buggy.jsonl")
    assert [r.error_kind for r in records] == ["instantiate", "instantiate"]
    assert all("ZeroDivisionError: division by zero" in r.error_message for r in records)


# ------------------------------------------------------------------------------ tuning

def test_tune_template_log_resume_and_apply_history_best(tmp_path, rng, capsys):
    task = at.create_task("pytest_matmul", args=(16, 16, 16))
    log = tmp_path / "matmul.jsonl"
    seen = []
    first = at.tune(task, trials=6, log=log, tuner="random", seed=1, batch_size=3, timeout=5,
                    callbacks=[lambda done, total, record: seen.append((done, total, record))])
    assert [d for d, _, _ in seen] == [1, 2, 3, 4, 5, 6] and all(t == 6 for _, t, _ in seen)
    assert first.trials_measured == 6 and first.trials_resumed == 0
    assert len(first.curve) == 6 and all(a <= b for a, b in zip(first.curve, first.curve[1:]))
    assert first.best is not None and first.best.gflops > 0
    assert first.best.gflops == pytest.approx(first.curve[-1])
    assert "tile_i=" in first.best.config and "split" in first.best.steps_python
    assert "6/6" in capsys.readouterr().err  # the progress bar

    records = at.load_log(log)
    assert len(records) == 6
    assert {r.workload_key for r in records} == {"pytest_matmul(16,16,16)"}

    # Resuming with a larger budget measures only the difference, never a config twice.
    second = at.tune(task, trials=10, log=log, tuner="random", seed=1, batch_size=4, progress=False)
    assert second.trials_resumed == 6 and second.trials_measured == 4
    indices = [r.config_index for r in at.load_log(log)]
    assert len(indices) == 10 and len(set(indices)) == 10
    assert second.best.gflops >= first.best.gflops

    best = max((r for r in at.load_log(log) if r.error_kind == "none"), key=lambda r: r.gflops)
    with at.apply_history_best(log, target="llvm"):
        s, args = py_matmul(16, 16, 16)
    assert s.steps_json() == task.replay(best.steps_json)[0].steps_json()
    check_matmul((s, args), 16, 16, 16, rng)


def test_cli_resume_counts_only_this_machines_records(tmp_path):
    """`autotune --op` on a log holding another machine's records of the workload measures its
    full budget here and says so, instead of claiming to resume the other machine's trials."""
    import json
    import pathlib
    import subprocess
    autotune = pathlib.Path(te._core.__file__).resolve().parents[2] / "autotune"
    assert autotune.exists(), f"{autotune} is not built"
    log = tmp_path / "softmax.jsonl"
    committed = pathlib.Path(__file__).resolve().parents[2] / "tuning_logs" / "bert_norm_llvm.jsonl"
    foreign = next(json.loads(line) for line in committed.read_text().splitlines()
                   if json.loads(line)["workload_key"] == "softmax(128,768)")
    foreign["hardware"] = "cpu: some other machine (family 0 model 0), 2 threads"
    log.write_text(json.dumps(foreign) + "\n")
    cmd = [str(autotune), "--op", "softmax", "--shape", "m=128,n=768", "--trials", "2", "--target", "llvm",
           "--tuner", "random", "--no-progress", "--log", str(log)]
    first = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    assert first.returncode == 0, first.stderr
    assert "(1 from other machines are kept and not counted)" in first.stderr, first.stderr
    assert len(log.read_text().splitlines()) == 3  # two measured here, the foreign one kept
    second = subprocess.run(cmd[:6] + ["3"] + cmd[7:], capture_output=True, text=True, timeout=300)
    assert second.returncode == 0, second.stderr
    assert "(resuming: it has 2 of them from this machine; 1 from other machines" in second.stderr, second.stderr
    assert len(log.read_text().splitlines()) == 4


def test_refine_measures_neighbours_and_remeasures_the_leaders(tmp_path, rng):
    task = at.create_task("pytest_matmul", args=(16, 16, 16))
    log = tmp_path / "refine.jsonl"
    at.tune(task, trials=4, log=log, tuner="random", seed=2, progress=False)
    before = at.load_log(log)
    result = at.refine(task, log, top=2, rounds=2, timeout=5)
    assert result.best_before is not None and result.best is not None
    after = at.load_log(log)
    assert len(after) == len(before) + result.neighbours_measured + result.remeasured
    assert result.remeasured == 4 and result.neighbours_measured >= 1
    # The neighbours are configs the log did not have; the re-measured ones it had.
    logged = {r.config_json for r in before}
    new = after[len(before):]
    assert all(r.config_json not in logged for r in new[:result.neighbours_measured])
    assert [r.config_json for r in new[result.neighbours_measured:][:2]] == \
        [r.config_json for r in new[result.neighbours_measured:][2:]]
    # The best is one of the re-measured configs (each now has three records), and it builds
    # and computes the matmul.
    assert result.best.config_json in {r.config_json for r in new[result.neighbours_measured:]}
    with at.apply_history_best(log, target="llvm"):
        check_matmul(py_matmul(16, 16, 16), 16, 16, 16, rng)
    with pytest.raises(te.TEError, match="te.autotune.refine: top"):
        at.refine(task, log, top=-1)
    with pytest.raises(te.TEError, match="log is required"):
        at.refine(task, None)
    # An empty log has nothing to refine.
    empty = at.refine(task, tmp_path / "empty.jsonl")
    assert empty.best is None and empty.neighbours_measured == 0 and empty.remeasured == 0


def test_default_config_without_record_is_noted_once(tmp_path, rng, capsys):
    capsys.readouterr()
    with at.apply_history_best(tmp_path / "missing.jsonl"):
        first = py_matmul(8, 8, 4)
        py_matmul(8, 8, 4)
    check_matmul(first, 8, 8, 4, rng)
    err = capsys.readouterr().err
    assert err.count("no tuning record for pytest_matmul(8,8,4)") == 1


def matmul_relu(N, M, K):
    A, B, C = matmul_compute(N, M, K)
    D = te.compute((N, M), lambda i, j: te.max(C[i, j], te.const(0.0, "float32")), name="D")
    return A, B, D


@pytest.mark.parametrize("tuner,cost_model", [("random", "rank"), ("xgb", "rank"), ("evolutionary", "regression")])
def test_auto_task_tunes_and_best_matches_numpy(tmp_path, rng, tuner, cost_model):
    if tuner != "random" and not at.have_xgboost():
        pytest.skip("te built without XGBoost")
    N, M, K = 16, 16, 16
    A, B, D = matmul_relu(N, M, K)
    task = at.auto_task([A, B, D], target="llvm")
    assert task.workload_key.startswith("auto_") and task.space_size > 1
    # Names do not enter the key: the same compute built again is the same workload.
    assert at.auto_task(list(matmul_relu(N, M, K))).workload_key == task.workload_key
    log = tmp_path / f"auto_{tuner}.jsonl"
    result = at.tune(task, trials=10, log=log, tuner=tuner, seed=3, batch_size=5, progress=False,
                     cost_model=cost_model)
    assert result.trials_measured == 10 and len(result.curve) == 10
    assert result.best is not None and result.best.error_kind == "none" and result.best.gflops > 0
    assert len(at.load_log(log)) == 10

    s, args = at.apply_history_best(log).instantiate(task)
    f = te.build(s, args, target="llvm")
    a, b = random_inputs(rng, (N, K), (K, M))
    d = np.full((N, M), np.nan, dtype="float32")
    f(a, b, d)
    np.testing.assert_allclose(d, np.maximum(a @ b, 0), rtol=1e-4, atol=1e-4)


def test_configs_the_template_rejects_are_skipped(tmp_path):
    task = at.create_task("pytest_picky", (8, 8, 4))
    assert task.space_size == len(divisors(8)) * 2
    result = at.tune(task, trials=task.space_size, log=tmp_path / "picky.jsonl", tuner="grid", progress=False)
    records = at.load_log(tmp_path / "picky.jsonl", task=task)
    rejected = [r for r in records if r.error_kind != "none"]
    assert len(rejected) == len(divisors(8))
    assert all(r.error_kind == "instantiate" and "boom=1" in r.error_message for r in rejected)
    assert all(r.config_json and '"boom":1' in r.config_json.replace(" ", "") for r in rejected)
    assert result.best is not None and "boom=0" in result.best.config.replace(" ", "")


def test_callback_exception_stops_tuning(tmp_path):
    task = at.create_task("pytest_matmul", args=(8, 8, 8))

    def stop(done, total, record):
        if done == 2:
            raise KeyError("stop here")

    with pytest.raises(KeyError, match="stop here"):
        at.tune(task, trials=8, log=tmp_path / "stop.jsonl", tuner="random", batch_size=4, progress=False,
                callbacks=[stop])
    assert len(at.load_log(tmp_path / "stop.jsonl")) >= 2  # what was measured is kept


def test_plot_curve(tmp_path):
    matplotlib = pytest.importorskip("matplotlib")
    matplotlib.use("Agg")
    ax = at.plot_curve({"xgb": [1.0, 3.0, 2.0, 5.0], "random": [2.0, 2.5]})
    lines = ax.get_lines()
    assert [line.get_label() for line in lines] == ["xgb", "random"]
    assert list(lines[0].get_ydata()) == [1.0, 3.0, 3.0, 5.0]  # best so far, not raw


# ------------------------------------------------------------------------------ errors

def test_user_errors_raise_teerror():
    with pytest.raises(te.TEError, match="no template named 'nope'"):
        at.create_task("nope", (1,))
    task = at.create_task("pytest_matmul", args=(8, 8, 8))
    with pytest.raises(te.TEError, match="bogus"):
        at.tune(task, trials=2, tuner="bogus", progress=False)
    with pytest.raises(te.TEError, match="trials"):
        at.tune(task, trials=0, progress=False)
    with pytest.raises(te.TEError, match="batch_size must be a positive integer"):
        at.tune(task, trials=4, batch_size=2.5, progress=False)
    with pytest.raises(te.TEError, match="timeout"):
        at.tune(task, trials=4, timeout=-1, progress=False)
    with pytest.raises(te.TEError, match="cost_model must be"):
        at.tune(task, trials=4, cost_model="lambdamart", progress=False)
    with pytest.raises(te.TEError, match="get_config"):
        at.get_config()
    with pytest.raises(te.TEError, match="integers"):
        at.create_task("pytest_matmul", ("8", 8, 8))
    with pytest.raises(te.TEError, match="no knob named"):
        task.config(0)["tile_x"]
    with pytest.raises(te.TEError):
        task.config(task.space_size)  # out of range

    with pytest.raises(te.TEError, match="already registered"):
        at.template("matmul")(py_matmul.func)  # te's own matmul template keeps its name

    kept = []

    @at.template("pytest_bad_return")
    def bad_return(n):
        kept.append(at.get_config())
        return "not a schedule"

    with pytest.raises(te.TEError, match="must return"):
        at.create_task("pytest_bad_return", (4,))
    with pytest.raises(te.TEError, match="after its template returned"):
        kept[0].define_knob("late", [1, 2])
