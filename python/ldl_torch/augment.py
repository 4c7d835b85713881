"""The paper's training augmentation, as @ldl's ``packages/train/src/augment.ts`` (same parameters, probabilities,
order and 8-bit arithmetic): horizontal flip; HSV shift (±20 hue on OpenCV's 0–180 scale, ±30 saturation, ±20
value); gamma in [0.8, 1.2]; brightness and contrast ±0.2; each with probability 0.3, in that order
(albumentations ``HorizontalFlip``, ``HueSaturationValue``, ``RandomGamma``, ``RandomBrightnessContrast``).

Every image draws exactly 10 uniforms, whether or not an op fires. The generator here is numpy's (seeded per
sample: ``default_rng([seed, epoch, index])``, so the draws do not depend on the number of ranks or workers), not
@ldl's ``Rng``: the same parameters give the same image, the same seed not the same draws.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class AugmentConfig:
    """@ldl's ``AugmentConfig`` defaults (the paper's)."""

    p_flip: float = 0.3
    p_hsv: float = 0.3
    hue_shift: float = 20
    saturation_shift: float = 30
    value_shift: float = 20
    p_gamma: float = 0.3
    gamma_range: tuple[float, float] = (0.8, 1.2)
    p_brightness_contrast: float = 0.3
    brightness: float = 0.2
    contrast: float = 0.2


@dataclass(frozen=True)
class AugmentParams:
    """One image's draws; ``None`` means the op is not applied."""

    flip: bool
    hsv: tuple[float, float, float] | None
    gamma: float | None
    brightness_contrast: tuple[float, float] | None


def sample_augment_params(rng: np.random.Generator, c: AugmentConfig = AugmentConfig()) -> AugmentParams:
    """Draws one image's parameters (exactly 10 uniforms, as ``sampleAugmentParams``)."""
    u = rng.random(10)

    def sym(x: float, limit: float) -> float:
        return (2 * x - 1) * limit

    return AugmentParams(
        flip=bool(u[0] < c.p_flip),
        hsv=(sym(u[2], c.hue_shift), sym(u[3], c.saturation_shift), sym(u[4], c.value_shift)) if u[1] < c.p_hsv else None,
        gamma=c.gamma_range[0] + (c.gamma_range[1] - c.gamma_range[0]) * u[6] if u[5] < c.p_gamma else None,
        brightness_contrast=(1 + sym(u[8], c.contrast), sym(u[9], c.brightness)) if u[7] < c.p_brightness_contrast else None,
    )


def _round(x: np.ndarray) -> np.ndarray:
    """JavaScript's ``Math.round`` (halves up)."""
    return np.floor(x + 0.5)


def _clip255(x: np.ndarray) -> np.ndarray:
    return np.where(x < 0, 0, np.where(x > 255, 255, _round(x)))


def _lut(image: np.ndarray, f) -> np.ndarray:
    lut = _clip255(f(np.arange(256, dtype=np.float64))).astype(np.uint8)
    return lut[image]


def adjust_gamma(image: np.ndarray, gamma: float) -> np.ndarray:
    """``x → 255·(x/255)^gamma`` on a uint8 ``[H, W, 3]`` image."""
    return _lut(image, lambda x: 255 * np.power(x / 255, gamma))


def adjust_brightness_contrast(image: np.ndarray, alpha: float, beta: float) -> np.ndarray:
    """``x → alpha·x + beta·255``."""
    return _lut(image, lambda x: alpha * x + beta * 255)


# Which of (0, C, X) each output channel takes in each 60° sector of the hue (the HSV → RGB formula).
_SECTOR_CODES = np.array([[1, 2, 0], [2, 1, 0], [0, 1, 2], [0, 2, 1], [2, 0, 1], [1, 0, 2]])


def shift_hsv(image: np.ndarray, hue: float, saturation: float, value: float) -> np.ndarray:
    """Hue (OpenCV 0–180 units, wrapping), saturation and value (0–255, clipped) through the 8-bit RGB↔HSV round trip.

    The same float64 operations, in the same order, as augment.ts' ``shiftHsv`` (so the same bytes come out).
    """
    h_, w_ = image.shape[:2]
    src = image.reshape(-1, 3).astype(np.float64)
    r, g, b = src[:, 0], src[:, 1], src[:, 2]
    v = src.max(axis=1)
    d = v - src.min(axis=1)
    s = np.divide(255 * d, v, out=np.zeros_like(v), where=v != 0)
    max_r, max_g = v == r, v == g
    num = np.where(max_r, g - b, np.where(max_g, b - r, r - g))
    offset = np.where(max_r, 0.0, np.where(max_g, 120.0, 240.0))
    h = np.divide(60 * num, d, out=np.zeros_like(v), where=d > 0)
    h = np.where(d > 0, offset + h, 0.0)
    h[h < 0] += 360
    h8 = np.mod(_round(h / 2) + _round(np.float64(hue)), 180)
    s8 = _clip255(_round(s) + saturation)
    v8 = _clip255(v + value)
    hh = h8 * 2 / 60
    c = v8 * s8 / 255
    x = c * (1 - np.abs(np.mod(hh, 2) - 1))
    m = v8 - c
    sector = np.minimum(np.floor(hh), 5).astype(np.intp)
    zcx = np.stack([np.zeros_like(c), c, x])  # [3, N]
    rgb = zcx[_SECTOR_CODES[sector], np.arange(c.shape[0])[:, None]]  # [N, 3]
    return _clip255(rgb + m[:, None]).astype(np.uint8).reshape(h_, w_, 3)


def apply_augment(image: np.ndarray, p: AugmentParams) -> np.ndarray:
    """Applies drawn parameters in the paper's order to a uint8 ``[H, W, 3]`` RGB image (returns a new array)."""
    out = image
    if p.flip:
        out = out[:, ::-1]
    if p.hsv is not None:
        out = shift_hsv(out, *p.hsv)
    if p.gamma is not None:
        out = adjust_gamma(out, p.gamma)
    if p.brightness_contrast is not None:
        out = adjust_brightness_contrast(out, *p.brightness_contrast)
    return np.ascontiguousarray(out)
