#!/usr/bin/env python3
"""PyLDL reference for @ldl/core's LDL measures (dev-only).

Evaluates PyLDL's own metric functions (PyPI `python-ldl` 0.1.2, `pyldl.metrics`, float64 NumPy) on
fixed, seeded random label distributions (some entries exactly zero, in the true and in the predicted
rows, and one row pair that is identical) and writes `packages/core/test/fixtures/ldl-measures-parity.json`,
which `packages/core/test/measures-parity.test.ts` compares `ldlMeasures` against (<= 1e-6).

Run from the repository root:
  tools/reference/setup_pyldl.sh && tools/reference/.venv/bin/python tools/reference/ldl_measures_parity.py
"""
from __future__ import annotations

import json
from importlib.metadata import version
from pathlib import Path

import numpy as np
from pyldl import metrics as M

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


def random_distributions(rng: np.random.Generator, n: int, l: int, zero_rate: float) -> np.ndarray:
    d = rng.random((n, l)) ** 2
    d[rng.random((n, l)) < zero_rate] = 0.0
    d[d.sum(1) == 0, 0] = 1.0
    return d / d.sum(1, keepdims=True)


def main() -> None:
    rng = np.random.default_rng(SEED)
    cases = []
    for n, l, zero_rate in [(20, 6, 0.2), (15, 18, 0.3), (10, 3, 0.25), (1, 5, 0.0)]:
        y_true = random_distributions(rng, n, l, zero_rate)
        y_pred = random_distributions(rng, n, l, zero_rate)
        if n > 1:
            y_pred[1] = y_true[1]  # an identical pair: every distance 0
        cases.append({
            "shape": [n, l],
            "yTrue": y_true.tolist(),
            "yPred": y_pred.tolist(),
            "expected": {name: float(f(y_true, y_pred)) for name, f in MEASURES.items()},
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
