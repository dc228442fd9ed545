#!/usr/bin/env python3
"""The score-method table of docs/results.md from run directories: AUROC with its 95 % bootstrap
interval for every method (rows) and OOD set (columns), and the seconds each method's computation
took over all the sets (the `seconds` metadata of its score files).

    scripts/scores_table.py RUN_DIR [RUN_DIR ...]
    scripts/scores_table.py --seeds RUN_DIR RUN_DIR [RUN_DIR ...]

One table per run directory, Markdown on stdout. With --seeds, one table over the runs (the seeds
of one experiment): each cell is the AUROC's mean ± sample sd, then every run's value in order. Reads metrics.json and the score files `flowood
run` wrote; needs nothing beyond Python's standard library.
"""
import json
import os
import statistics
import sys


def meta(path):
    out = {}
    with open(path) as f:
        for line in f:
            if not line.startswith("#"):
                break
            key, _, value = line[1:].strip().partition("=")
            out[key] = value
    return out


def load(run, rows, sets):
    """RUN's metrics.json; appends the method and OOD-set names not yet in rows and sets, in order."""
    with open(os.path.join(run, "metrics.json")) as f:
        m = json.load(f)
    for e in m["methods"]:
        if e["method"] not in rows:
            rows.append(e["method"])
        if e["dataset"] not in sets:
            sets.append(e["dataset"])
    return m


def table(run):
    rows, sets, cells, files = [], [], {}, {}
    m = load(run, rows, sets)
    for e in m["methods"]:
        method, ds = e["method"], e["dataset"]
        ci = e.get("ci", {}).get("auroc", {})
        cell = f"{e['auroc']:.3f} [{ci.get('low', float('nan')):.3f}, {ci.get('high', float('nan')):.3f}]"
        if e.get("per_batch"):
            cell += " (batches)"
        cells[(method, ds)] = cell
        files.setdefault(method, set()).add(e["scores"])
    loglik_seconds = 0.0
    for d in m["datasets"]:
        loglik_seconds += float(meta(d["file"]).get("seconds", "nan"))
    print(f"**{m['experiment']}** — `{run}`, checkpoint step {m['step']}, in-distribution `{m['in_distribution']}`\n")
    print("| method | " + " | ".join(f"AUROC vs `{s}`" for s in sets) + " | seconds |")
    print("|---|" + "---|" * (len(sets) + 1))
    for method in rows:
        if method in ("loglik", "bpd"):
            seconds = loglik_seconds
        else:
            seconds = 0.0
            scores_dir = os.path.join(run, "scores")
            for name in os.listdir(scores_dir):
                if name.endswith(f".{method}.csv"):
                    seconds += float(meta(os.path.join(scores_dir, name)).get("seconds", "nan"))
        print(f"| {method} | " + " | ".join(cells.get((method, s), "—") for s in sets) + f" | {seconds:.0f} |")
    print()


def seeds_table(runs):
    rows, sets, values = [], [], {}
    for run in runs:
        for e in load(run, rows, sets)["methods"]:
            values.setdefault((e["method"], e["dataset"]), []).append(e["auroc"])
    print(f"AUROC, mean ± sd over {len(runs)} runs, then each run's: " + ", ".join(f"`{r}`" for r in runs) + "\n")
    print("| method | " + " | ".join(f"vs `{s}`" for s in sets) + " |")
    print("|---|" + "---|" * len(sets))
    for method in rows:
        cells = []
        for s in sets:
            v = values.get((method, s), [])
            if len(v) != len(runs):
                cells.append("—")
                continue
            cells.append(f"{statistics.mean(v):.3f} ± {statistics.stdev(v):.3f} ({', '.join(f'{x:.3f}' for x in v)})")
        print(f"| {method} | " + " | ".join(cells) + " |")
    print()


if __name__ == "__main__":
    args = sys.argv[1:]
    if args[:1] == ["--seeds"]:
        if len(args) < 3:
            sys.exit(__doc__)
        seeds_table(args[1:])
    elif not args:
        sys.exit(__doc__)
    else:
        for run in args:
            table(run)
