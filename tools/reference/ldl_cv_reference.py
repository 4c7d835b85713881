#!/usr/bin/env python3
"""PyLDL reference for `ldl cv` (dev-only): runs PyLDL's (PyPI `python-ldl` 0.1.2) algorithms on exactly
the folds `ldl cv --save-folds` wrote, and prints the same table (mean ± std over the folds, ddof 0)
plus the wall and CPU time (all threads) of fit + predict over all folds.

  pnpm ldl cv --data ../shared/datasets/ldl/SJAFFE.mat --algorithm sa-bfgs --save-folds /tmp/sjaffe-folds.json
  tools/reference/setup_pyldl.sh
  tools/reference/.venv/bin/python tools/reference/ldl_cv_reference.py --folds /tmp/sjaffe-folds.json \
      [--algorithms SA_BFGS,AA_KNN,LDLLC,...] [--json out.json]

--algorithms takes PyLDL class names (the `pyldl` field of @ldl's registry, packages/algorithms/src/registry.ts)
or `all` for every one @ldl has. The folds file names the data file and holds each fold's test indices;
the data are read with scipy.io.loadmat (the features/labels variables, as PyLDL's `load_dataset`).
Every model is built with `random_state=k` for fold k (NumPy's global seed and, for the Keras models,
`keras.utils.set_random_seed`), and fitted with PyLDL's default fit arguments. Keras runs on its torch
backend (KERAS_BACKEND=torch; TensorFlow is not installed). The @ldl side uses its own generator, so
the two start from different random weights / samples: compare means within the spread over folds.
"""
from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path

os.environ.setdefault("KERAS_BACKEND", "torch")

import numpy as np
import scipy.io as sio
from pyldl.metrics import score

MEASURES = ["chebyshev", "clark", "canberra", "kl_divergence", "cosine", "intersection"]
HEAD = ["Chebyshev ↓", "Clark ↓", "Canberra ↓", "KL ↓", "Cosine ↑", "Intersection ↑"]
# PyLDL classes that @ldl implements, fastest first; AdaBoostLDL is not exported by pyldl.algorithms.
ALL = ["SA_BFGS", "AA_KNN", "BD_LDL", "PT_Bayes", "LDLLC", "LDL_LRR", "LDL_DPA", "LDSVR", "PT_SVM", "WInLDL", "IncomLDL", "Duo_LDL", "LDL_SCL", "AA_BP", "CPNN", "BCPNN", "ACPNN", "AdaBoostLDL", "LALOT", "SA_IIS", "DF_LDL"]


class LdlRng:
    """@ldl's `Rng` (packages/core/src/prng.ts: xoshiro128** seeded by splitmix32), so that the reference can
    draw exactly the random numbers @ldl draws (here: the missing-entry masks of the incomplete methods)."""

    def __init__(self, seed: int):
        s = int(seed) & 0xFFFFFFFF
        state = []
        for _ in range(4):
            s = (s + 0x9E3779B9) & 0xFFFFFFFF
            z = s
            z = ((z ^ (z >> 16)) * 0x85EBCA6B) & 0xFFFFFFFF
            z = ((z ^ (z >> 13)) * 0xC2B2AE35) & 0xFFFFFFFF
            state.append((z ^ (z >> 16)) & 0xFFFFFFFF)
        self.s = state

    def next(self) -> float:
        s = self.s
        rotl = lambda x, k: ((x << k) | (x >> (32 - k))) & 0xFFFFFFFF
        result = (rotl((s[1] * 5) & 0xFFFFFFFF, 7) * 9) & 0xFFFFFFFF
        t = (s[1] << 9) & 0xFFFFFFFF
        s[2] ^= s[0]
        s[3] ^= s[1]
        s[1] ^= s[2]
        s[0] ^= s[3]
        s[2] ^= t
        s[3] = rotl(s[3], 11)
        return result / 4294967296


class Incomplete:
    """IncomLDL / WInLDL under plain CV, as @ldl runs them: hide `rate` (.8, PyLDL's `random_missing` default)
    of the training entries, each missing when the next draw of @ldl's `Rng(seed)` is below `rate` (row-major,
    the mask @ldl's `randomMissing` draws for that fold), fit on the rest with the mask, predict complete
    distributions."""

    def __init__(self, cls, seed, rate=.8):
        self.cls, self.seed, self.rate = cls, seed, rate

    def fit(self, X, D, **kwargs):
        rng = LdlRng(self.seed)
        mask = np.array([rng.next() < self.rate for _ in range(D.size)]).reshape(D.shape)
        missing = D.copy()
        missing[mask] = 0.
        self.model = self.cls(random_state=self.seed)
        self.model.fit(X, missing, mask=mask, **kwargs)
        return self

    def predict(self, X):
        return self.model.predict(X)


def algorithm(name: str):
    if name in ("IncomLDL", "WInLDL"):
        import pyldl.algorithms as algorithms
        cls = getattr(algorithms, name)
        return lambda random_state: Incomplete(cls, random_state)
    if name in ("AdaBoostLDL", "DF_LDL"):
        # python-ldl 0.1.2 from PyPI ships its Cython modules `_tree` and `_rbm` as .c sources only, and
        # `_ensemble` imports them at the top although only StructRF and RG4LDL use them: stand-ins let
        # DF_LDL and AdaBoostLDL (which never touch them) import.
        import sys
        import types
        for mod in ("pyldl.algorithms._tree", "pyldl.algorithms._rbm"):
            if mod not in sys.modules:
                try:
                    __import__(mod)
                except ImportError:
                    stub = types.ModuleType(mod)
                    stub._Node = stub.best_split = stub.train_rbm = None
                    sys.modules[mod] = stub
        from pyldl.algorithms._ensemble import AdaBoostLDL, DF_LDL
        return AdaBoostLDL if name == "AdaBoostLDL" else DF_LDL
    if name == "AdaBoostLDL":
        from pyldl.algorithms._ensemble import AdaBoostLDL
        return AdaBoostLDL
    import pyldl.algorithms as algorithms
    return getattr(algorithms, name)


def build(cls, seed: int):
    np.random.seed(seed)
    try:
        return cls(random_state=seed)
    except TypeError:
        np.random.seed(seed)
        return cls()


def fmt(m: float, s: float) -> str:
    f = lambda v: f"{v:.3f}".replace("0.", ".", 1) if abs(v) < 1 else f"{v:.3f}"
    return f"{f(m)} ± {f(s)}"


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--folds", required=True, help="folds JSON written by ldl cv --save-folds")
    ap.add_argument("--algorithms", default="SA_BFGS", help="comma-separated PyLDL class names, or all")
    ap.add_argument("--json", help="also write the results (mean, std, per-fold measures, seconds) here")
    ap.add_argument("--fit-kwargs", default="{}",
                    help='JSON of extra fit() arguments per class, e.g. {"SA_IIS": {"max_iterations": 50}}')
    args = ap.parse_args()
    folds = json.loads(Path(args.folds).read_text())
    data_path = Path(folds["data"])
    if not data_path.is_absolute():
        data_path = (Path(args.folds).parent / data_path) if not data_path.exists() else data_path
    mat = sio.loadmat(data_path)
    X, D = mat["features"].astype(np.float64), mat["labels"].astype(np.float64)
    n = X.shape[0]
    fit_kwargs = json.loads(args.fit_kwargs)
    names = ALL if args.algorithms == "all" else args.algorithms.split(",")
    print(f"{data_path.name}: n={n}, d={X.shape[1]}, L={D.shape[1]}, {len(folds['folds'])} folds (from {args.folds})")
    print("| algorithm | " + " | ".join(HEAD) + " | wall |")
    print("|---" * (len(HEAD) + 2) + "|", flush=True)
    out = {}
    for name in names:
        cls = algorithm(name)
        rows, seconds, cpu = [], 0.0, 0.0
        for k, test in enumerate(folds["folds"]):
            test = np.asarray(test["test"], dtype=int)
            train = np.setdiff1d(np.arange(n), test)
            model = build(cls, k)
            t0, c0 = time.perf_counter(), time.process_time()
            model.fit(X[train], D[train], **fit_kwargs.get(name, {}))
            pred = np.asarray(model.predict(X[test]), dtype=np.float64)
            seconds += time.perf_counter() - t0
            cpu += time.process_time() - c0
            rows.append(score(D[test], pred, metrics=MEASURES))
        rows = np.asarray(rows)
        mean, std = rows.mean(0), rows.std(0)
        out[name] = {"fit_kwargs": fit_kwargs.get(name, {}), "mean": dict(zip(MEASURES, mean.tolist())), "std": dict(zip(MEASURES, std.tolist())),
                     "folds": [dict(zip(MEASURES, r.tolist())) for r in rows], "seconds": seconds, "cpu_seconds": cpu}
        print(f"| {name} (PyLDL) | " + " | ".join(fmt(m, s) for m, s in zip(mean, std)) + f" | {seconds:.1f} s (CPU {cpu:.1f} s) |", flush=True)
        if args.json:  # after every algorithm, so that a long run keeps what finished
            Path(args.json).write_text(json.dumps(out, indent=1) + "\n")


if __name__ == "__main__":
    main()
