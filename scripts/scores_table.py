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
import argparse
import json
import os
import statistics


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


def seconds(run, m, method):
    """The seconds METHOD's computation took over every scored set of RUN (metrics m): the `seconds`
    metadata of its score files; loglik and bpd share the log-likelihood files."""
    if method in ("loglik", "bpd"):
        return sum(float(meta(d["file"]).get("seconds", "nan")) for d in m["datasets"])
    scores_dir = os.path.join(run, "scores")
    if not os.path.isdir(scores_dir):
        return float("nan")  # shown as nan: the score files were moved or deleted
    return sum(float(meta(os.path.join(scores_dir, name)).get("seconds", "nan"))
               for name in os.listdir(scores_dir) if name.endswith(f".{method}.csv"))


def secs(x):
    return "< 1" if x < 1 else f"{x:.0f}"


def table(run):
    rows, sets, cells = [], [], {}
    m = load(run, rows, sets)
    for e in m["methods"]:
        method, ds = e["method"], e["dataset"]
        ci = e.get("ci", {}).get("auroc", {})
        cell = f"{e['auroc']:.3f} [{ci.get('low', float('nan')):.3f}, {ci.get('high', float('nan')):.3f}]"
        if e.get("per_batch"):
            cell += " (batches)"
        cells[(method, ds)] = cell
    print(f"**{m['experiment']}** — `{run}`, checkpoint step {m['step']}, in-distribution `{m['in_distribution']}`\n")
    print("| method | " + " | ".join(f"AUROC vs `{s}`" for s in sets) + " | seconds |")
    print("|---|" + "---|" * (len(sets) + 1))
    for method in rows:
        cells_row = " | ".join(cells.get((method, s), "—") for s in sets)
        print(f"| {method} | {cells_row} | {secs(seconds(run, m, method))} |")
    print()


def seeds_table(runs):
    rows, sets, values, metrics = [], [], {}, {}
    for run in runs:
        metrics[run] = load(run, rows, sets)
        for e in metrics[run]["methods"]:
            values.setdefault((e["method"], e["dataset"]), []).append(e["auroc"])
    print(f"AUROC, mean ± sd over {len(runs)} runs, then each run's: " + ", ".join(f"`{r}`" for r in runs))
    print("(seconds: the range over the runs)\n")
    print("| method | " + " | ".join(f"vs `{s}`" for s in sets) + " | seconds |")
    print("|---|" + "---|" * (len(sets) + 1))
    for method in rows:
        cells = []
        for s in sets:
            v = values.get((method, s), [])
            if len(v) != len(runs):
                cells.append("—")
                continue
            cells.append(f"{statistics.mean(v):.3f} ± {statistics.stdev(v):.3f} ({', '.join(f'{x:.3f}' for x in v)})")
        t = [seconds(run, metrics[run], method) for run in runs]
        span = secs(min(t)) if secs(min(t)) == secs(max(t)) else f"{secs(min(t))}–{secs(max(t))}"
        print(f"| {method} | " + " | ".join(cells) + f" | {span} |")
    print()


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seeds", action="store_true",
                        help="one table of mean ± sd over the runs (at least two) instead of one per run")
    parser.add_argument("runs", nargs="+", metavar="RUN_DIR", help="run directories written by `flowood run`")
    args = parser.parse_args()
    for run in args.runs:
        if not os.path.isfile(os.path.join(run, "metrics.json")):
            parser.error(f"{run}: no metrics.json (not a run directory `flowood run` has scored)")
    if args.seeds:
        if len(args.runs) < 2:
            parser.error("--seeds needs at least two run directories")
        seeds_table(args.runs)
    else:
        for run in args.runs:
            table(run)


if __name__ == "__main__":
    main()
