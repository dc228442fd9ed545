#!/usr/bin/env python3
"""Training curves of several runs (seeds) as one Markdown table: at each step every run has, the
mean ± sd over the runs of the test bits/dim and of each AUROC column of their curve.csv files
(written by `flowood curve RUN`).

    scripts/curve_table.py RUN_DIR [RUN_DIR ...] [--every K]

--every K keeps the steps that are multiples of K (default: every step). Needs only Python's
standard library. The sd is the sample standard deviation (n − 1); with one run it is omitted.
"""
import csv
import math
import os
import sys


def read_curve(run):
    path = os.path.join(run, "curve.csv")
    with open(path) as f:
        rows = [r for r in csv.reader(line for line in f if not line.startswith("#"))]
    header, data = rows[0], rows[1:]
    return header, {int(float(r[0])): [float(x) for x in r[1:]] for r in data}


def cell(values):
    m = sum(values) / len(values)
    if len(values) < 2:
        return f"{m:.3f}"
    sd = math.sqrt(sum((v - m) ** 2 for v in values) / (len(values) - 1))
    return f"{m:.3f} ± {sd:.3f}"


def main(argv):
    every = 1
    if "--every" in argv:
        i = argv.index("--every")
        every = int(argv[i + 1])
        argv = argv[:i] + argv[i + 2:]
    if not argv:
        sys.exit(__doc__)
    curves = [read_curve(run) for run in argv]
    header = curves[0][0]
    if any(h != header for h, _ in curves):
        sys.exit("the runs' curve.csv files have different columns")
    steps = sorted(set.intersection(*(set(c) for _, c in curves)))
    steps = [s for s in steps if s % every == 0]
    names = ["test bits/dim"] + ["AUROC vs " + h[len("auroc["):-1] for h in header[2:]]
    print(f"| step | {' | '.join(names)} |")
    print("|---" * (len(names) + 1) + "|")
    for s in steps:
        cols = [cell([c[s][k] for _, c in curves]) for k in range(len(header) - 1)]
        print(f"| {s} | {' | '.join(cols)} |")
    print(f"\n{len(curves)} run(s): {', '.join(argv)}")


if __name__ == "__main__":
    main(sys.argv[1:])
