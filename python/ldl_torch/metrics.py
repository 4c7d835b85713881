"""The paper's metrics, as @ldl's ``AgeMetrics`` (``packages/core/src/metrics.ts``): MAE, CA(3/5/7) and MAE per
decade. CA(n) counts ``|pred − truth| < n`` (the paper's strict convention, @ldl's default); ``inclusive=True``
counts ``≤ n`` (DLDL-v2's). Sums are kept (``state``) so that ranks' accumulators add up (``all_reduce``) before ``result()``.
"""
from __future__ import annotations

from typing import Any

import torch

CA_THRESHOLDS = (3, 5, 7)
#: Decades 0, 10, …, 100 (ages ≥ 110 would need more bins; @ldl's classes stop at 100).
NUM_DECADES = 12


class AgeMetrics:
    """Streaming MAE / CA(3, 5, 7) / MAE-by-decade accumulator; ``state`` is one float64 tensor, summed across ranks."""

    def __init__(self, inclusive: bool = False) -> None:
        self.inclusive = inclusive
        # [count, error sum, within 3, within 5, within 7, loss sum, decade counts…, decade error sums…]
        self.state = torch.zeros(6 + 2 * NUM_DECADES, dtype=torch.float64)

    def update(self, pred: torch.Tensor, truth: torch.Tensor, loss_sum: float = 0.0) -> None:
        """Adds a batch: predicted and true ages ``[N]``; ``loss_sum`` = the batch's loss × N."""
        p = pred.detach().double().cpu().reshape(-1)
        t = truth.detach().double().cpu().reshape(-1)
        if p.shape != t.shape or p.numel() == 0:
            raise ValueError(f"Error in AgeMetrics.update: pred and truth must be non-empty and of equal length, "
                             f"but got {p.numel()} and {t.numel()}.")
        e = (p - t).abs()
        s = self.state
        s[0] += e.numel()
        s[1] += e.sum()
        for j, n in enumerate(CA_THRESHOLDS):
            s[2 + j] += ((e <= n) if self.inclusive else (e < n)).sum()
        s[5] += loss_sum
        d = torch.clamp(torch.floor(t / 10).long(), 0, NUM_DECADES - 1)
        s[6:6 + NUM_DECADES] += torch.bincount(d, minlength=NUM_DECADES).double()
        s[6 + NUM_DECADES:] += torch.bincount(d, weights=e, minlength=NUM_DECADES)

    @property
    def count(self) -> int:
        return int(self.state[0].item())

    def result(self) -> dict[str, Any]:
        """``{count, mae, ca3, ca5, ca7, loss, maeByDecade}`` (CA in percent, as @ldl's ``AgeMetrics.result``)."""
        s = self.state
        n = s[0].item()
        if n == 0:
            raise ValueError("Error in AgeMetrics.result: count must be > 0 (call update() first), but got 0.")
        decades = [
            {"decade": 10 * i, "count": int(s[6 + i].item()), "mae": s[6 + NUM_DECADES + i].item() / s[6 + i].item()}
            for i in range(NUM_DECADES) if s[6 + i].item() > 0
        ]
        out = {"count": int(n), "mae": s[1].item() / n, "loss": s[5].item() / n, "maeByDecade": decades}
        for j, t in enumerate(CA_THRESHOLDS):
            out[f"ca{t}"] = 100.0 * s[2 + j].item() / n
        return out


def best_value(metrics: dict[str, Any], best_by: str) -> float:
    """The value to minimise for ``bestBy``: MAE, or minus a CA."""
    v = metrics[best_by]
    return v if best_by == "mae" else -v
