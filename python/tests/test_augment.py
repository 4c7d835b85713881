"""ldl_torch.augment against @ldl's augment.ts (fixtures/augment.json, written by fixtures/augment_fixture.ts)."""
import json

import numpy as np

from conftest import FIXTURES
from ldl_torch.augment import (AugmentParams, adjust_brightness_contrast, adjust_gamma, apply_augment,
                               sample_augment_params, shift_hsv)

FX = json.loads((FIXTURES / "augment.json").read_text())
IMAGE = np.array(FX["image"], dtype=np.uint8).reshape(FX["height"], FX["width"], 3)


def ts(values):
    return np.array(values, dtype=np.uint8).reshape(FX["height"], FX["width"], 3)


def test_each_case_equals_augment_ts():
    for case in FX["cases"]:
        p = case["params"]
        params = AugmentParams(flip=p["flip"], hsv=tuple(p["hsv"]) if p["hsv"] else None, gamma=p["gamma"],
                               brightness_contrast=tuple(p["brightnessContrast"]) if p["brightnessContrast"] else None)
        np.testing.assert_array_equal(apply_augment(IMAGE, params), ts(case["output"]), err_msg=case["name"])
    np.testing.assert_array_equal(adjust_gamma(IMAGE, 1.2), ts(FX["ops"]["gamma12"]))
    np.testing.assert_array_equal(adjust_brightness_contrast(IMAGE, 0.8, 0.2), ts(FX["ops"]["bc"]))
    np.testing.assert_array_equal(shift_hsv(IMAGE, 20, 30, 20), ts(FX["ops"]["hsvOnly"]))


def test_drawn_parameter_sets_equal_augment_ts():
    big = FX["big"]
    image = np.array(big["image"], dtype=np.uint8).reshape(big["height"], big["width"], 3)
    for case in big["cases"]:
        p = case["params"]
        params = AugmentParams(flip=p["flip"], hsv=tuple(p["hsv"]), gamma=p["gamma"],
                               brightness_contrast=tuple(p["brightnessContrast"]) if p["brightnessContrast"] else None)
        want = np.array(case["output"], dtype=np.uint8).reshape(image.shape)
        np.testing.assert_array_equal(apply_augment(image, params), want, err_msg=str(p))


def test_probabilities_and_ranges_are_the_papers():
    rng = np.random.default_rng(0)
    draws = [sample_augment_params(rng) for _ in range(4000)]
    for name, hit in (("flip", lambda d: d.flip), ("hsv", lambda d: d.hsv is not None),
                      ("gamma", lambda d: d.gamma is not None), ("bc", lambda d: d.brightness_contrast is not None)):
        rate = np.mean([hit(d) for d in draws])
        assert abs(rate - 0.3) < 0.03, (name, rate)
    hsv = np.array([d.hsv for d in draws if d.hsv])
    assert np.all(np.abs(hsv) <= [20, 30, 20]) and np.all(np.abs(hsv).max(axis=0) > [19, 29, 19])
    gammas = np.array([d.gamma for d in draws if d.gamma is not None])
    assert gammas.min() >= 0.8 and gammas.max() <= 1.2
    bc = np.array([d.brightness_contrast for d in draws if d.brightness_contrast])
    assert np.all(np.abs(bc[:, 0] - 1) <= 0.2) and np.all(np.abs(bc[:, 1]) <= 0.2)
