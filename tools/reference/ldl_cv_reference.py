#!/usr/bin/env python3
"""PyLDL reference for `ldl-cv` (dev-only): runs PyLDL's (PyPI `python-ldl` 0.1.2) SA_BFGS and AA_KNN
on exactly the folds `ldl-cv` used, and prints the same table (mean ± std over the folds, ddof 0)
plus the wall time of fit + predict over all folds.

  pnpm --filter @ldl/algorithms run ldl-cv --data ../shared/datasets/ldl/SJAFFE.mat --algorithm sa-bfgs --save-folds /tmp/sjaffe-folds.json
  tools/reference/setup_pyldl.sh
  tools/reference/.venv/bin/python tools/reference/ldl_cv_reference.py --folds /tmp/sjaffe-folds.json [--algorithms SA_BFGS,AA_KNN]

The folds file (written by `ldl-cv --save-folds`) names the data file and holds each fold's test
indices; the data are read with scipy.io.loadmat (the features/labels variables, as PyLDL's
`load_dataset`). PyLDL's SA_BFGS starts from np.random.random weights: seeded here with 0 per fold.
"""
from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np
import scipy.io as sio
from pyldl.algorithms import AA_KNN, SA_BFGS
from pyldl.metrics import score

MEASURES = ["chebyshev", "clark", "canberra", "kl_divergence", "cosine", "intersection"]
HEAD = ["Chebyshev ↓", "Clark ↓", "Canberra ↓", "KL ↓", "Cosine ↑", "Intersection ↑"]
ALGORITHMS = {"SA_BFGS": SA_BFGS, "AA_KNN": AA_KNN}


def fmt(m: float, s: float) -> str:
    f = lambda v: f"{v:.3f}".replace("0.", ".", 1) if abs(v) < 1 else f"{v:.3f}"
    return f"{f(m)} ± {f(s)}"


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--folds", required=True, help="folds JSON written by ldl-cv --save-folds")
    ap.add_argument("--algorithms", default="SA_BFGS", help="comma-separated: SA_BFGS, AA_KNN")
    ap.add_argument("--json", help="also write the results here")
    args = ap.parse_args()
    folds = json.loads(Path(args.folds).read_text())
    data_path = Path(folds["data"])
    if not data_path.is_absolute():
        data_path = (Path(args.folds).parent / data_path) if not data_path.exists() else data_path
    mat = sio.loadmat(data_path)
    X, D = mat["features"].astype(np.float64), mat["labels"].astype(np.float64)
    n = X.shape[0]
    print(f"{data_path.name}: n={n}, d={X.shape[1]}, L={D.shape[1]}, {len(folds['folds'])} folds (from {args.folds})")
    print("| algorithm | " + " | ".join(HEAD) + " | wall |")
    print("|---" * (len(HEAD) + 2) + "|")
    out = {}
    for name in args.algorithms.split(","):
        rows, t0 = [], time.perf_counter()
        for k, test in enumerate(folds["folds"]):
            test = np.asarray(test["test"], dtype=int)
            train = np.setdiff1d(np.arange(n), test)
            np.random.seed(k)
            model = ALGORITHMS[name]()
            model.fit(X[train], D[train])
            rows.append(score(D[test], model.predict(X[test]), metrics=MEASURES))
        secs = time.perf_counter() - t0
        rows = np.asarray(rows)
        mean, std = rows.mean(0), rows.std(0)
        out[name] = {"mean": dict(zip(MEASURES, mean.tolist())), "std": dict(zip(MEASURES, std.tolist())), "seconds": secs}
        print(f"| {name} (PyLDL) | " + " | ".join(fmt(m, s) for m, s in zip(mean, std)) + f" | {secs:.1f} s |")
    if args.json:
        Path(args.json).write_text(json.dumps(out, indent=1) + "\n")


if __name__ == "__main__":
    main()
