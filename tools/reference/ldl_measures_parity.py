#!/usr/bin/env python3
"""PyLDL reference for @ldl/core's LDL measures (dev-only).

Evaluates every PyLDL metric function defined on label distributions (PyPI `python-ldl` 0.1.2, `pyldl.metrics`, float64 NumPy) on
fixed, seeded random label distributions (some entries exactly zero, in the true and in the predicted
rows, and one row pair that is identical) and writes `packages/core/test/fixtures/ldl-measures-parity.json`,
which `packages/core/test/measures-parity.test.ts` compares `ldlMeasures` and every entry of
`LDL_MEASURE_REGISTRY` (plus `divisivenessError`) against (<= 1e-6). PyLDL imports keras, which needs a
backend: the torch of setup.sh (KERAS_BACKEND=torch, set below unless already set).

Run from the repository root:
  tools/reference/setup_pyldl.sh && tools/reference/.venv/bin/python tools/reference/ldl_measures_parity.py
"""
from __future__ import annotations

import json
import os
from importlib.metadata import version
from pathlib import Path

os.environ.setdefault("KERAS_BACKEND", "torch")

import numpy as np  # noqa: E402
from pyldl import metrics as M  # noqa: E402

SEED = 13
OUT = Path(__file__).resolve().parents[2] / "packages/core/test/fixtures/ldl-measures-parity.json"
# @ldl/core name -> PyLDL function
MEASURES = {
    "chebyshev": M.chebyshev,
    "clark": M.clark,
    "canberra": M.canberra,
    "kullbackLeibler": M.kl_divergence,
    "cosine": M.cosine,
    "intersection": M.intersection,
    "euclidean": M.euclidean,
    "sorensen": M.sorensen,
    "squaredChi2": M.chi2,
    "fidelity": M.fidelity,
    "jensenShannon": M.js_divergence,
}
# LDL_MEASURE_REGISTRY name -> PyLDL call (the eleven above as well)
REGISTRY = {
    **MEASURES,
    "waveHedges": M.wave_hedges,
    "spearman": M.spearman,
    "kendall": M.kendall,
    "dpa": M.dpa,
    "mu": M.mu,
    "nu1": M.nu1,
    "nu2": M.nu2,
    "nu3": M.nu3,
    "meanAbsoluteError": lambda t, p: M.mean_absolute_error(t, p, mode="macro"),
    "meanAbsoluteErrorMicro": lambda t, p: M.mean_absolute_error(t, p, mode="micro"),
    "meanSquaredError": lambda t, p: M.mean_squared_error(t, p, mode="macro"),
    "meanSquaredErrorMicro": lambda t, p: M.mean_squared_error(t, p, mode="micro"),
    "zeroOneLoss": M.zero_one_loss,
    "errorProbability": M.error_probability,
    "maxRocAuc": M.max_roc_auc,
    **{f"match{m}": (lambda m: lambda t, p: M.match_m(t, p, m=m))(m) for m in (1, 2, 3, 4)},
    **{f"top{k}": (lambda k: lambda t, p: M.top_k(t, p, k=k))(k) for k in (1, 2, 3, 4)},
}
# top_k's other modes, checked by name in the test
TOP_K_MODES = {f"top{k}:{mode}": (lambda k, mode: lambda t, p: M.top_k(t, p, k=k, mode=mode))(k, mode)
               for k in (1, 3) for mode in ("precision", "recall")}


def random_distributions(rng: np.random.Generator, n: int, l: int, zero_rate: float) -> np.ndarray:
    d = rng.random((n, l)) ** 2
    d[rng.random((n, l)) < zero_rate] = 0.0
    d[d.sum(1) == 0, 0] = 1.0
    return d / d.sum(1, keepdims=True)


def main() -> None:
    rng = np.random.default_rng(SEED)
    cases = []
    # L <= 16 except one case: NumPy's argsort (match_m, top_k) is then an insertion sort, stable on ties.
    for n, l, zero_rate in [(20, 6, 0.2), (15, 18, 0.3), (10, 3, 0.25), (1, 5, 0.0), (30, 8, 0.0)]:
        y_true = random_distributions(rng, n, l, zero_rate)
        y_pred = random_distributions(rng, n, l, zero_rate)
        if n > 1:
            y_pred[1] = y_true[1]  # an identical pair: every distance 0
        cases.append({
            "shape": [n, l],
            "yTrue": y_true.tolist(),
            "yPred": y_pred.tolist(),
            "expected": {name: float(f(y_true, y_pred)) for name, f in REGISTRY.items()},
            "topKModes": {name: float(f(y_true, y_pred)) for name, f in TOP_K_MODES.items()},
            # labels 0, 2, 4, ... against 1, 3, 5, ...
            "divisivenessError": float(M.divisiveness_error(
                y_true, y_pred, pos=(np.arange(l) % 2 == 0).astype(float), neg=(np.arange(l) % 2 == 1).astype(float))),
        })
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps({
        "generator": "tools/reference/ldl_measures_parity.py",
        "reference": f"python-ldl {version('python-ldl')} (pyldl.metrics), numpy {np.__version__}",
        "seed": SEED,
        "cases": cases,
    }, indent=1) + "\n")
    print(f"wrote {OUT} ({len(cases)} cases)")


if __name__ == "__main__":
    main()
