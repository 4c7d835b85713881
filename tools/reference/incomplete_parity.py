#!/usr/bin/env python3
"""Fixture for @ldl's IncomLDL / WInLDL (dev-only): PyLDL 0.1.2's `WInLDL` and `IncomLDL` fitted on a small
synthetic incomplete LDL set (60 samples, 4 features, 4 labels, softmax-linear distributions, 30 % of the
entries hidden), with their weights and iteration counts.

  tools/reference/.venv/bin/python tools/reference/incomplete_parity.py packages/algorithms/test/fixtures/pyldl-incomplete.json
"""
import json
import sys

import numpy as np
from pyldl.algorithms import IncomLDL, WInLDL

rng = np.random.default_rng(0)
X = rng.normal(size=(60, 4))
Z = X @ rng.normal(size=(4, 4))
D = np.exp(Z) / np.exp(Z).sum(1, keepdims=True)
mask = rng.random(D.shape) < 0.3
Dm = D.copy()
Dm[mask] = 0
out = {"made": "tools/reference/incomplete_parity.py (python-ldl 0.1.2, numpy default_rng(0))",
       "X": X.tolist(), "D": Dm.tolist(), "missing": mask.astype(int).tolist()}
for cls in (WInLDL, IncomLDL):
    model = cls()
    model.fit(X, Dm, mask=mask)
    out[cls.__name__] = {"weights": model._W.tolist(), "iterations": model._current_iteration}
with open(sys.argv[1], "w") as f:
    json.dump(out, f)
    f.write("\n")
