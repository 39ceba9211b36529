#!/usr/bin/env python3
"""Tuning efficiency from tuning logs: best GFLOP/s against trials, per tuner.

    python3 bench/tuning_curves.py [--checkpoints 10,25,50,...] [--baseline random] TUNER=LOG ...

Each LOG is a te tuning log (JSON lines, one record per measured candidate, in the order they
were measured) of one tuner; every workload found in the logs gets a table: the best GFLOP/s
after each checkpoint, how many trials each tuner needed to reach the baseline tuner's final
best (the issue's target: the model-guided tuner reaches random search's 500-trial best within
150 trials), the errors, and the median build time per candidate (lowering + LLVM compile +
link, from the records' build_seconds). Markdown on stdout, ready for BENCHMARKS.md.
Reads only the standard library's json: it runs without te installed.
"""
import argparse
import json
import statistics
import sys


def read_records(path):
    """The log's records in file order; torn or foreign lines are skipped, as te does."""
    records = []
    with open(path, encoding="utf-8", errors="replace") as f:
        for line in f:
            try:
                r = json.loads(line)
            except ValueError:
                continue
            if isinstance(r, dict) and "workload_key" in r and "costs" in r:
                records.append(r)
    return records


def gflops(record):
    costs = [c for c in record.get("costs") or [] if isinstance(c, (int, float)) and c > 0]
    if record.get("error") != "none" or not costs or not record.get("flop"):
        return 0.0
    return record["flop"] / (sum(costs) / len(costs)) / 1e9


def best_curve(records):
    """Best-so-far GFLOP/s after each trial."""
    curve, best = [], 0.0
    for r in records:
        best = max(best, gflops(r))
        curve.append(best)
    return curve


def trials_to_reach(curve, level):
    for i, value in enumerate(curve):
        if value >= level:
            return i + 1
    return None


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("logs", nargs="+", help="TUNER=LOG, e.g. xgb=build/bench_logs/matmul_xgb.jsonl")
    parser.add_argument("--checkpoints", default="10,25,50,100,150,200,300,400,500")
    parser.add_argument("--baseline", default="random", help="the tuner whose final best the others must reach")
    args = parser.parse_args()
    checkpoints = [int(c) for c in args.checkpoints.split(",") if c]

    by_workload = {}  # workload -> {tuner: records}
    for item in args.logs:
        if "=" not in item:
            sys.exit(f"tuning_curves: '{item}' should be TUNER=LOG")
        tuner, path = item.split("=", 1)
        for r in read_records(path):
            key = f"{r['workload_key']} on {r.get('target', '?')}"
            by_workload.setdefault(key, {}).setdefault(tuner, []).append(r)

    for key, tuners in by_workload.items():
        hardware = next((r.get("hardware") for rs in tuners.values() for r in rs if r.get("hardware")), "?")
        print(f"### {key}\n\nmeasured on {hardware}\n")
        print("| tuner | trials | " + " | ".join(f"@{c}" for c in checkpoints) + " | errors | median build s |")
        print("|---|---:|" + "---:|" * len(checkpoints) + "---:|---:|")
        curves = {}
        for tuner, records in tuners.items():
            curve = curves[tuner] = best_curve(records)
            cells = [f"{curve[c - 1]:.1f}" if c <= len(curve) else "" for c in checkpoints]
            errors = sum(r.get("error") != "none" for r in records)
            builds = [r["build_seconds"] for r in records if isinstance(r.get("build_seconds"), (int, float))
                      and r["build_seconds"] > 0]
            build = f"{statistics.median(builds):.3f}" if builds else ""
            print(f"| {tuner} | {len(records)} | " + " | ".join(cells) + f" | {errors} | {build} |")
        if args.baseline in curves and curves[args.baseline]:
            base = curves[args.baseline]
            level = base[-1]
            print(f"\nTrials to reach {args.baseline}'s {len(base)}-trial best ({level:.1f} GFLOP/s):", end="")
            for tuner, curve in curves.items():
                n = trials_to_reach(curve, level)
                print(f" {tuner} {n if n is not None else f'not within {len(curve)}'};", end="")
            print()
        print()


if __name__ == "__main__":
    main()
