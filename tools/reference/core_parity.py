#!/usr/bin/env python3
"""PyTorch reference for @ldl/core (dev-only).

Reproduces the formulas of the paper's seed code (Liu 2020, DLDL-v2 style) in float64 on fixed,
seeded inputs and writes the fixture `packages/core/test/fixtures/core-parity.json`, which the
vitest suite `packages/core/test/parity.test.ts` compares @ldl/core against (<= 1e-5 relative).

Seed formulas:
  target  = max(exp(-(k - age)^2 / (2 sigma^2)) / (sigma sqrt(2 pi)), 1e-15)   (k = 0..100, unnormalised)
  KL      = nn.KLDivLoss(reduction='batchmean')(log_softmax(logits), target)
  L1      = nn.L1Loss()(sum_k k * softmax(logits)_k, age)
  loss    = KL + lambda * L1                                                    (lambda = 1)
The seed takes log(softmax(.)); this script uses log_softmax, which is the same value wherever the
seed's is finite, and records what the naive form gives on the extreme-logit row.

Run from the repository root:
  tools/reference/.venv/bin/python tools/reference/core_parity.py
"""
from __future__ import annotations

import datetime
import json
import math
import platform
import re
import sys
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

SEED = 2020
N, C, MIN_AGE = 6, 101, 0
EXTREME_ROW = 3
OUT = Path(__file__).resolve().parents[2] / "packages/core/test/fixtures/core-parity.json"


def f32(x: float) -> float:
    """Round to float32 (the precision @ldl/core computes in) and keep 9 significant digits."""
    return float(f"{float(np.float32(x)):.9g}")


def as_list(t: torch.Tensor | np.ndarray) -> list:
    a = t.detach().cpu().numpy() if isinstance(t, torch.Tensor) else t
    return np.vectorize(f32, otypes=[float])(a).tolist() if a.ndim else f32(float(a))


def gaussian_target(ages: torch.Tensor, sigma: torch.Tensor, normalize: bool, floor: float = 1e-15) -> torch.Tensor:
    k = torch.arange(MIN_AGE, MIN_AGE + C, dtype=torch.float64)[None, :]
    s = sigma[:, None]
    t = torch.exp(-((k - ages[:, None]) ** 2) / (2 * s**2)) / (s * math.sqrt(2 * math.pi))
    t = torch.clamp(t, min=floor)
    return t / t.sum(dim=1, keepdim=True) if normalize else t


def expected_age(logits: torch.Tensor) -> torch.Tensor:
    k = torch.arange(MIN_AGE, MIN_AGE + C, dtype=logits.dtype)
    return (F.softmax(logits, dim=1) * k).sum(dim=1)


def ldl_case(name: str, logits64: torch.Tensor, ages: torch.Tensor, sigma, normalize: bool, lam: float, rows: list[int]) -> dict:
    """One ldlLoss evaluation on the given rows of the inputs."""
    logits64, ages = logits64[rows], ages[rows]
    n = len(rows)
    sig = torch.full((n,), float(sigma), dtype=torch.float64) if np.isscalar(sigma) else torch.tensor(sigma, dtype=torch.float64)
    target = gaussian_target(ages, sig, normalize)
    x = logits64.clone().requires_grad_(True)
    kl = torch.nn.KLDivLoss(reduction="batchmean")(F.log_softmax(x, dim=1), target)
    l1 = torch.nn.L1Loss()(expected_age(x), ages)
    loss = kl + lam * l1
    (grad,) = torch.autograd.grad(loss, x)
    return {
        "name": name,
        "rows": rows,
        "options": {"sigma": sigma, "normalize": normalize, "lambda": lam, "klReduction": "batchmean"},
        "target": as_list(target),
        "kl": as_list(kl),
        "l1": as_list(l1),
        "loss": as_list(loss),
        "grad": as_list(grad),
    }


def main() -> None:
    torch.manual_seed(SEED)
    rng = np.random.default_rng(SEED)
    # Inputs are float32 values (what a tfjs model produces); all maths below is float64.
    logits = rng.normal(0.0, 3.0, size=(N, C)).astype(np.float32)
    logits[EXTREME_ROW, :] = -1e4
    logits[EXTREME_ROW, 30:32] = 1e4  # softmax = 0.5 / 0.5 on ages 30 and 31 -> E = 30.5
    ages_list = [0.0, 100.0, 37.3, 33.7, 64.8, 12.5]
    logits64 = torch.from_numpy(logits.astype(np.float64))
    ages = torch.tensor(ages_list, dtype=torch.float64)

    rows = list(range(N))
    moderate = [r for r in rows if r != EXTREME_ROW]  # the extreme row dominates the batch's loss value
    cases = [
        ldl_case("seed (sigma=2, unnormalised, lambda=1)", logits64, ages, 2.0, False, 1.0, rows),
        ldl_case("seed, moderate rows only", logits64, ages, 2.0, False, 1.0, moderate),
        ldl_case("per-sample sigma", logits64, ages, [1.0, 2.0, 3.0, 0.5, 4.0, 2.5], False, 1.0, rows),
        ldl_case("normalised, lambda=0.5", logits64, ages, 2.0, True, 0.5, rows),
    ]

    # What the seed's literal log(softmax(.)) gives in float32 on the extreme row.
    x32 = torch.from_numpy(logits)
    naive = torch.nn.KLDivLoss(reduction="batchmean")(
        torch.log(F.softmax(x32, dim=1)), gaussian_target(ages, torch.full((N,), 2.0, dtype=torch.float64), False).float()
    )

    # Cross-entropy baseline on class round(age) (halves up, like Math.round).
    classes = [int(math.floor(a - MIN_AGE + 0.5)) for a in ages_list]
    x = logits64.clone().requires_grad_(True)
    ce = F.cross_entropy(x, torch.tensor(classes))
    (ce_grad,) = torch.autograd.grad(ce, x)

    # Mean-variance loss (Pan et al. 2018): L_s + l1 * L_m + l2 * L_v.
    lm, lv = 0.2, 0.05
    x = logits64.clone().requires_grad_(True)
    p = F.softmax(x, dim=1)
    k = torch.arange(MIN_AGE, MIN_AGE + C, dtype=torch.float64)
    m = (p * k).sum(dim=1)
    mean_part = 0.5 * ((m - ages) ** 2).mean()
    var_part = (p * (k[None, :] - m[:, None]) ** 2).sum(dim=1).mean()
    mv_ce = F.cross_entropy(x, torch.tensor(classes))
    mv = mv_ce + lm * mean_part + lv * var_part
    (mv_grad,) = torch.autograd.grad(mv, x)

    # Multi-task loss: LDL (seed options) on age + weighted CE on gender and ethnicity.
    gender_logits = rng.normal(0.0, 2.0, size=(N, 2)).astype(np.float32)
    ethnicity_logits = rng.normal(0.0, 2.0, size=(N, 5)).astype(np.float32)
    gender = [0, 1, 1, 0, 1, 0]
    ethnicity = [4, 0, 2, 1, 3, 2]
    weights = {"ageWeight": 1.0, "genderWeight": 0.5, "ethnicityWeight": 0.3}
    mt = (
        weights["ageWeight"] * cases[0]["loss"]
        + weights["genderWeight"] * F.cross_entropy(torch.from_numpy(gender_logits).double(), torch.tensor(gender)).item()
        + weights["ethnicityWeight"] * F.cross_entropy(torch.from_numpy(ethnicity_logits).double(), torch.tensor(ethnicity)).item()
    )

    # Metrics on fixed arrays, with errors exactly at the CA thresholds.
    pred = np.array([20, 33, 25.5, 41, 60, 7, 15, 88.25, 50, 3, 102])
    truth = np.array([23, 30, 25, 48, 55, 0, 14, 80, 57, 3, 99])
    err = np.abs(pred - truth)
    decades = np.floor(truth / 10) * 10
    metrics = {
        "pred": pred.tolist(),
        "truth": truth.tolist(),
        "mae": float(err.mean()),
        "strict": {f"ca{n}": float(100 * (err < n).mean()) for n in (3, 5, 7)},
        "inclusive": {f"ca{n}": float(100 * (err <= n).mean()) for n in (3, 5, 7)},
        "maeByDecade": [
            {"decade": int(d), "count": int((decades == d).sum()), "mae": float(err[decades == d].mean())}
            for d in sorted(set(decades.tolist()))
        ],
    }

    fixture = {
        "generatedBy": {
            "script": "tools/reference/core_parity.py",
            "command": "tools/reference/.venv/bin/python tools/reference/core_parity.py",
            "torch": torch.__version__,
            "numpy": np.__version__,
            "python": platform.python_version(),
            "seed": SEED,
            "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "precision": "float64 maths on float32 inputs; tensors reported rounded to float32",
        },
        "numClasses": C,
        "minAge": MIN_AGE,
        "extremeRow": EXTREME_ROW,
        "logits": as_list(logits),
        "ages": ages_list,
        "expectedAges": as_list(expected_age(logits64)),
        "ldl": cases,
        "naiveSeedLossFloat32": str(naive.item()),
        "crossEntropy": {"classes": classes, "loss": as_list(ce), "grad": as_list(ce_grad)},
        "meanVariance": {
            "lambdaMean": lm,
            "lambdaVariance": lv,
            "mean": as_list(mean_part),
            "variance": as_list(var_part),
            "softmax": as_list(mv_ce),
            "loss": as_list(mv),
            "grad": as_list(mv_grad),
        },
        "multiTask": {
            "genderLogits": as_list(gender_logits),
            "ethnicityLogits": as_list(ethnicity_logits),
            "gender": gender,
            "ethnicity": ethnicity,
            "weights": weights,
            "loss": f32(mt),
        },
        "metrics": metrics,
    }
    text = json.dumps(fixture, indent=1)
    # Keep numeric arrays on one line so the fixture stays small and diffable.
    text = re.sub(r"\[\s+([-0-9.eE+,\s]+?)\s+\]", lambda mo: "[" + re.sub(r"\s+", "", mo.group(1)).replace(",", ", ") + "]", text)
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(text + "\n")
    print(f"wrote {OUT} ({OUT.stat().st_size} bytes) with torch {torch.__version__}, seed {SEED}")
    print(f"seed-case loss {cases[0]['loss']}, naive float32 seed loss {naive.item()}", file=sys.stderr)


if __name__ == "__main__":
    main()
