"""The losses of @ldl's ``Trainer`` (``packages/core/src/losses.ts``), in PyTorch.

``ldl_loss`` is @ldl's ``ldlLoss`` with the options its Trainer passes (the paper's seed, DLDL-v2 style):
``KLDivLoss(reduction='batchmean')(log_softmax(logits), target) + λ·L1Loss()(Σ_k (minAge + k)·p_k, age)`` with the
target ``max(exp(-(minAge + k − age)² / 2σ²) / (σ√(2π)), 1e-15)`` — unnormalised, as @ldl's default
``normalize: false``; ``normalize=True`` gives DLDL-v2's row-normalised target.
"""
from __future__ import annotations

import math
from typing import TYPE_CHECKING

import torch
import torch.nn.functional as F

if TYPE_CHECKING:
    from .config import TrainConfig


def gaussian_labels(ages: torch.Tensor, num_classes: int = 101, sigma: float = 2.0, *, min_age: float = 0.0,
                    normalize: bool = False, floor: float = 1e-15) -> torch.Tensor:
    """Gaussian label distributions ``[N, num_classes]`` (float64 maths, returned in ``ages``' float dtype).

    :param ages: ``[N]`` ages in years, within ``[min_age, min_age + num_classes - 1]``.
    :raises ValueError: for ``sigma <= 0`` or an age outside the classes.
    """
    if not sigma > 0:
        raise ValueError(f"Error in gaussian_labels: sigma must be > 0, but got {sigma}.")
    a = ages.detach().to(torch.float64)
    if a.numel() and (not torch.isfinite(a).all() or a.min() < min_age or a.max() > min_age + num_classes - 1):
        raise ValueError(f"Error in gaussian_labels: ages must lie in [{min_age}, {min_age + num_classes - 1}], "
                         f"but got {a.min().item()}..{a.max().item()}.")
    k = torch.arange(num_classes, dtype=torch.float64, device=a.device)[None, :] + min_age
    t = torch.exp(-((k - a[:, None]) ** 2) / (2 * sigma**2)) / (sigma * math.sqrt(2 * math.pi))
    t = torch.clamp(t, min=floor)
    if normalize:
        t = t / t.sum(dim=1, keepdim=True)
    dtype = ages.dtype if ages.is_floating_point() else torch.float32
    return t.to(dtype)


def expected_age(logits: torch.Tensor, *, min_age: float = 0.0, probabilities: bool = False) -> torch.Tensor:
    """``Σ_k (min_age + k)·softmax(logits)_k``, ``[N]`` (``probabilities=True``: the input is already a softmax)."""
    p = logits if probabilities else F.softmax(logits, dim=1)
    k = torch.arange(p.shape[1], dtype=p.dtype, device=p.device) + min_age
    return (p * k).sum(dim=1)


def ldl_loss(logits: torch.Tensor, ages: torch.Tensor, *, sigma: float = 2.0, lambda_: float = 1.0,
             min_age: float = 0.0, normalize: bool = False) -> torch.Tensor:
    """@ldl's ``ldlLoss``: ``KL(target ‖ softmax(logits))`` (batchmean) ``+ λ·mean|E[p] − age|``.

    :param logits: ``[N, C]`` age logits.
    :param ages: ``[N]`` ages (float).
    :returns: scalar loss (mean over the batch: the DDP average of equal per-rank batches is the global mean).
    """
    logits = logits.float()
    ages = ages.to(device=logits.device, dtype=torch.float32)
    logp = F.log_softmax(logits, dim=1)
    target = gaussian_labels(ages, logits.shape[1], sigma, min_age=min_age, normalize=normalize)
    kl = F.kl_div(logp, target, reduction="batchmean")
    if lambda_ == 0:
        return kl
    return kl + lambda_ * F.l1_loss(expected_age(logits, min_age=min_age), ages)


def age_classes(ages: torch.Tensor, min_age: float = 0.0) -> torch.Tensor:
    """``round(age − min_age)`` with halves rounded up (JavaScript's ``Math.round``), as int64."""
    return torch.floor(ages.to(torch.float64) - min_age + 0.5).long()


def cross_entropy_loss(logits: torch.Tensor, ages: torch.Tensor, *, min_age: float = 0.0) -> torch.Tensor:
    """@ldl's ``crossEntropyLoss``: softmax CE on the class ``round(age − min_age)``."""
    return F.cross_entropy(logits.float(), age_classes(ages, min_age).to(logits.device))


def mean_variance_loss(logits: torch.Tensor, ages: torch.Tensor, *, lambda_mean: float = 0.2,
                       lambda_variance: float = 0.05, min_age: float = 0.0) -> torch.Tensor:
    """@ldl's ``meanVarianceLoss`` (Pan et al. 2018): ``CE + λ₁·mean ½(m − age)² + λ₂·mean Σ p (k − m)²``."""
    logits = logits.float()
    ages = ages.to(device=logits.device, dtype=torch.float32)
    p = F.softmax(logits, dim=1)
    k = torch.arange(logits.shape[1], dtype=p.dtype, device=p.device) + min_age
    m = (p * k).sum(dim=1)
    mean_part = 0.5 * ((m - ages) ** 2).mean()
    var_part = (p * (k[None, :] - m[:, None]) ** 2).sum(dim=1).mean()
    return cross_entropy_loss(logits, ages, min_age=min_age) + lambda_mean * mean_part + lambda_variance * var_part


def multi_task_loss(age_logits: torch.Tensor, gender_logits: torch.Tensor, ethnicity_logits: torch.Tensor,
                    ages: torch.Tensor, gender: torch.Tensor, ethnicity: torch.Tensor, *, sigma: float = 2.0,
                    lambda_: float = 1.0, min_age: float = 0.0, age_weight: float = 1.0, gender_weight: float = 1.0,
                    ethnicity_weight: float = 1.0) -> torch.Tensor:
    """@ldl's ``multiTaskLoss``: ``w_a·ldl_loss + w_g·CE(gender) + w_e·CE(ethnicity)`` (weights 1, as its Trainer)."""
    return (age_weight * ldl_loss(age_logits, ages, sigma=sigma, lambda_=lambda_, min_age=min_age)
            + gender_weight * F.cross_entropy(gender_logits.float(), gender.to(gender_logits.device))
            + ethnicity_weight * F.cross_entropy(ethnicity_logits.float(), ethnicity.to(ethnicity_logits.device)))


def compute_loss(cfg: "TrainConfig", out: dict[str, torch.Tensor], target: dict[str, torch.Tensor]) -> torch.Tensor:
    """The batch-mean loss of @ldl's Trainer for ``cfg.loss`` (multi-task: ``multiTaskLoss``)."""
    ages = target["age"]
    if cfg.multi_task:
        if (target["gender"] < 0).any() or (target["ethnicity"] < 0).any():
            raise ValueError("Error in compute_loss: multi-task training needs gender and ethnicity for every sample, "
                             "but a sample of the batch has none (null in its .json).")
        return multi_task_loss(out["age"], out["gender"], out["ethnicity"], ages, target["gender"],
                               target["ethnicity"], sigma=cfg.sigma, lambda_=cfg.lambda_)
    if cfg.loss == "ce":
        return cross_entropy_loss(out["age"], ages)
    if cfg.loss == "mean-variance":
        return mean_variance_loss(out["age"], ages)
    return ldl_loss(out["age"], ages, sigma=cfg.sigma, lambda_=cfg.lambda_)
