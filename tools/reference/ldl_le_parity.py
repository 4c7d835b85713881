#!/usr/bin/env python3
"""PyLDL reference for @ldl/algorithms' label enhancement (dev-only).

Runs PyLDL's (PyPI `python-ldl` 0.1.2) `binaryzation` and its LE algorithms LP, KM, ML, FCM and GLLE on
SJAFFE (../shared/datasets/ldl/SJAFFE.mat, read with scipy.io.loadmat as PyLDL's `load_dataset`) and writes
`packages/algorithms/test/fixtures/le-parity.json`, read by `packages/algorithms/test/le-parity.test.ts`:

- `logical`: PyLDL's binarised labels of all samples (one '0'/'1' string per row). The LE methods on both
  sides run on these: on rows with tied degrees, NumPy's `argsort` (SIMD quicksort, not stable) breaks the
  tie differently from @ldl's `binarize` (ties by label index).
- `subset`: the first N_SUB samples; each deterministic method's
  (LP, KM, ML, FCM) six measures against the true distributions plus its first rows. FCM's random start
  (NumPy's global generator, which PyLDL leaves unseeded) is replaced by the closed-form start
  `u0[k, i] = ((7k + 13i) mod 17) + 1` (columns normalised), which @ldl's `FuzzyCMeans({ init })` reproduces.
  FCM is PyLDL's `FCM.fit` body with `maxiter=FCM_ITERATIONS` instead of 10000: run to convergence, fuzzy
  C-means with 50 clusters on these data is chaotic in the rounding — the same PyLDL call, repeated in one
  process, stops after 273, 275 or 385 iterations at different memberships (summation order of BLAS) — so
  only a bounded run has a reproducible answer.
All on SJAFFE without repeated feature rows (212 of 213 samples: sample 8 repeats sample 0, and
scikit-learn's k-NN breaks the exact tie in an order of its own).
- `full`: the LE protocol on the 212 samples — each method's six measures and wall time (fit + transform,
  this machine); GLLE (random start, K-means, SGD inside the loss) over SEEDS random_states, mean and std;
  LEVI (a VAE trained 1000 epochs by Adam from Keras' random start and noise) over LEVI_SEEDS, mean and std
  (not in CI: @ldl's LEVI takes minutes on tfjs' cpu backend; compared once, see the package README).

PyLDL imports keras, which needs a backend: the torch of setup.sh (KERAS_BACKEND=torch, set below).
Run from the repository root:
  tools/reference/setup_pyldl.sh && tools/reference/.venv/bin/python tools/reference/ldl_le_parity.py
With `--timings FILE` it writes no fixture: it runs each method once on the same 212 samples (FCM to
convergence, GLLE and LEVI with seed 0) and writes their wall times to FILE, for
packages/algorithms/bench/le-speed.sh.
"""
from __future__ import annotations

import argparse
import json
import os
import time
from importlib.metadata import version
from pathlib import Path

os.environ.setdefault("KERAS_BACKEND", "torch")

import numpy as np  # noqa: E402
import scipy.io as sio  # noqa: E402
import skfuzzy as fuzz  # noqa: E402
from pyldl.algorithms import GLLE, KM, LEVI, LP, ML  # noqa: E402
from scipy.special import softmax  # noqa: E402
from pyldl.algorithms.utils import binaryzation  # noqa: E402
from pyldl.metrics import score  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
DATA = ROOT.parent / "shared/datasets/ldl/SJAFFE.mat"
if not DATA.exists():
    DATA = Path("/work/shared/datasets/ldl/SJAFFE.mat")
OUT = ROOT / "packages/algorithms/test/fixtures/le-parity.json"
N_SUB = 60
N_ROWS = 4
FCM_ITERATIONS = 30
SEEDS = [0, 1, 2, 3, 4]
LEVI_SEEDS = [0, 1, 2]
MEASURES = ["chebyshev", "clark", "canberra", "kl_divergence", "cosine", "intersection"]
NAMES = ["chebyshev", "clark", "canberra", "kullbackLeibler", "cosine", "intersection"]


def fcm_init(c: int, n: int) -> np.ndarray:
    k, i = np.meshgrid(np.arange(c), np.arange(n), indexing="ij")
    u = ((7 * k + 13 * i) % 17 + 1).astype(np.float64)
    return u / u.sum(0, keepdims=True)


def run(name: str, X: np.ndarray, L: np.ndarray, seed: int | None = None) -> tuple[np.ndarray, float]:
    t0 = time.perf_counter()
    if name == "FCM":  # pyldl.algorithms.FCM.fit, with maxiter and init set
        _, u, _, _, _, _, _ = fuzz.cluster.cmeans(X.T, 50, 2, error=1e-7, maxiter=FCM_ITERATIONS, init=fcm_init(50, X.shape[0]))
        D = softmax(fuzz.maxprod_composition(u.T, np.matmul(L.T, u.T).T), axis=1)
    elif name == "GLLE":
        D = GLLE(random_state=seed).fit_transform(X, L.copy())
    elif name == "LEVI":
        import keras
        keras.utils.set_random_seed(seed)
        D = LEVI(random_state=seed).fit_transform(X, L.copy())
    else:
        D = {"LP": LP, "KM": KM, "ML": ML}[name]().fit_transform(X, L.copy())
    return np.asarray(D, dtype=np.float64), time.perf_counter() - t0


def measures(D: np.ndarray, D_hat: np.ndarray) -> dict:
    return dict(zip(NAMES, map(float, score(D, D_hat, metrics=MEASURES))))


def timings(X: np.ndarray, L: np.ndarray, out: str, methods: list[str]) -> None:
    seconds = {}
    for name in methods:
        if name == "FCM":  # PyLDL's own FCM, to convergence from NumPy's random start
            t0 = time.perf_counter()
            from pyldl.algorithms import FCM
            FCM().fit_transform(X, L.copy())
            seconds[name] = time.perf_counter() - t0
        else:
            seconds[name] = run(name, X, L, 0)[1]
        print(f"PyLDL {name}: {seconds[name]:.2f} s", flush=True)
    Path(out).write_text(json.dumps({"reference": f"python-ldl {version('python-ldl')}", "seconds": seconds}) + "\n")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--timings", help="write the wall times of one run of each method here, and no fixture")
    ap.add_argument("--methods", default="LP,KM,ML,GLLE,LEVI,FCM", help="with --timings: which methods")
    opts = ap.parse_args()
    mat = sio.loadmat(DATA)
    X, D = mat["features"].astype(np.float64), mat["labels"].astype(np.float64)
    # Drop repeated feature rows (SJAFFE: sample 8 repeats sample 0): their neighbours tie exactly, and
    # scikit-learn's k-NN breaks such ties in an order of its own (ML, GLLE).
    keep = np.sort(np.unique(X, axis=0, return_index=True)[1])
    X, D = X[keep], D[keep]
    L = binaryzation(D)
    if opts.timings:
        return timings(X, L, opts.timings, opts.methods.split(","))
    subset = {"n": N_SUB, "methods": {}}
    Xs, Ds, Ls = X[:N_SUB], D[:N_SUB], L[:N_SUB]
    for name in ["LP", "KM", "ML", "FCM"]:
        D_hat, _ = run(name, Xs, Ls)
        subset["methods"][name] = {"measures": measures(Ds, D_hat), "rows": D_hat[:N_ROWS].tolist()}
        print(name, subset["methods"][name]["measures"])
    full = {"n": int(X.shape[0]), "methods": {}}
    for name in ["LP", "KM", "ML"]:
        D_hat, seconds = run(name, X, L)
        full["methods"][name] = {"measures": measures(D, D_hat), "seconds": seconds}
        print("full", name, f"{seconds:.2f}s", full["methods"][name]["measures"])
    for name, seeds in [("GLLE", SEEDS), ("LEVI", LEVI_SEEDS)]:
        runs, secs = [], []
        for seed in seeds:
            D_hat, seconds = run(name, X, L, seed)
            runs.append(measures(D, D_hat))
            secs.append(seconds)
        full["methods"][name] = {
            "seeds": seeds,
            "mean": {k: float(np.mean([r[k] for r in runs])) for k in NAMES},
            "std": {k: float(np.std([r[k] for r in runs])) for k in NAMES},
            "seconds": float(np.mean(secs)),
        }
        print("full", name, full["methods"][name])
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps({
        "generator": "tools/reference/ldl_le_parity.py",
        "reference": f"python-ldl {version('python-ldl')} (pyldl.algorithms LP, KM, ML, FCM, GLLE; binaryzation "
                     f"threshold .5), numpy {np.__version__}, keras backend {os.environ['KERAS_BACKEND']}",
        "data": "SJAFFE.mat (../shared/datasets/ldl), repeated feature rows dropped (first kept)",
        "fcm": {"init": "u0[k, i] = ((7k + 13i) mod 17) + 1, columns normalised", "maxIterations": FCM_ITERATIONS},
        "logical": ["".join(map(str, row)) for row in L.astype(int)],
        "subset": subset,
        "full": full,
    }, indent=1) + "\n")
    print(f"wrote {OUT}")


if __name__ == "__main__":
    main()
