"""ldl_torch's losses and metrics against the fixture @ldl/core's own parity test uses
(packages/core/test/fixtures/core-parity.json, written by tools/reference/core_parity.py)."""
import json

import numpy as np
import pytest
import torch

from conftest import REPO
from ldl_torch.losses import (cross_entropy_loss, expected_age, gaussian_labels, ldl_loss, mean_variance_loss,
                              multi_task_loss)
from ldl_torch.metrics import AgeMetrics

FIXTURE = REPO / "packages/core/test/fixtures/core-parity.json"


@pytest.fixture(scope="module")
def fx():
    return json.loads(FIXTURE.read_text())


def close(a, b, rel=1e-5, abs_=1e-6):
    np.testing.assert_allclose(np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64), rtol=rel, atol=abs_)


def test_ldl_loss_matches_ldlLoss(fx):
    logits = torch.tensor(fx["logits"], dtype=torch.float32)
    ages = torch.tensor(fx["ages"], dtype=torch.float32)
    checked = 0
    for case in fx["ldl"]:
        o = case["options"]
        if not np.isscalar(o["sigma"]):
            continue  # per-sample sigma: @ldl's trainer always passes one number
        rows = case["rows"]
        x = logits[rows].clone().requires_grad_(True)
        loss = ldl_loss(x, ages[rows], sigma=o["sigma"], lambda_=o["lambda"], normalize=o["normalize"])
        loss.backward()
        close(loss.item(), case["loss"])
        close(x.grad, case["grad"], abs_=1e-7)
        close(gaussian_labels(ages[rows].double(), 101, o["sigma"], normalize=o["normalize"]), case["target"], abs_=1e-12)
        checked += 1
    assert checked == 3


def test_other_losses_and_expectation(fx):
    logits = torch.tensor(fx["logits"], dtype=torch.float32)
    ages = torch.tensor(fx["ages"], dtype=torch.float32)
    close(expected_age(logits), fx["expectedAges"], abs_=1e-4)
    close(cross_entropy_loss(logits, ages).item(), fx["crossEntropy"]["loss"])
    mv = fx["meanVariance"]
    close(mean_variance_loss(logits, ages, lambda_mean=mv["lambdaMean"], lambda_variance=mv["lambdaVariance"]).item(), mv["loss"])
    mt = fx["multiTask"]
    w = mt["weights"]
    got = multi_task_loss(logits, torch.tensor(mt["genderLogits"]), torch.tensor(mt["ethnicityLogits"]), ages,
                          torch.tensor(mt["gender"]), torch.tensor(mt["ethnicity"]), age_weight=w["ageWeight"],
                          gender_weight=w["genderWeight"], ethnicity_weight=w["ethnicityWeight"])
    close(got.item(), mt["loss"])


def test_metrics_match_AgeMetrics(fx):
    m = fx["metrics"]
    pred, truth = torch.tensor(m["pred"]), torch.tensor(m["truth"])
    for inclusive, key in ((False, "strict"), (True, "inclusive")):
        acc = AgeMetrics(inclusive=inclusive)
        acc.update(pred[:4], truth[:4])
        acc.update(pred[4:], truth[4:])  # streaming gives the totals
        r = acc.result()
        close(r["mae"], m["mae"], rel=1e-12)
        for n in (3, 5, 7):
            close(r[f"ca{n}"], m[key][f"ca{n}"], rel=1e-12)
        got = [(d["decade"], d["count"], d["mae"]) for d in r["maeByDecade"]]
        want = [(d["decade"], d["count"], pytest.approx(d["mae"])) for d in m["maeByDecade"]]
        assert got == want
    # the default is the paper's strict CA (|e| < n), as @ldl's
    assert AgeMetrics().inclusive is False
