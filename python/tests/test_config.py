"""config.json → TrainConfig: the mapping, @ldl's defaults, and the errors."""
import json

import pytest

from conftest import FIXTURES
from ldl_torch.config import DEFAULTS, config_from_settings, read_config


def test_reads_the_config_json_of_an_ldl_train_run():
    # written by: pnpm ldl train --preset small --synthetic --epochs 1 --run-dir /tmp/x
    cfg = read_config(FIXTURES / "config-small-synthetic.json")
    assert (cfg.preset, cfg.backbone, cfg.width_scale, cfg.depth_scale, cfg.image_size) == ("small", "resnet50", 0.25, 0.34, 64)
    assert (cfg.epochs, cfg.batch_size, cfg.step_size) == (1, 32, 6)
    # absent keys take @ldl's runExperiment defaults
    assert (cfg.lr, cfg.gamma, cfg.schedule, cfg.sigma, cfg.lambda_, cfg.loss, cfg.seed, cfg.augment) == (
        1e-3, 0.2, "step", 2.0, 1.0, "ldl", 0, True)
    assert any("synthetic" in n and "not applicable" in n for n in cfg.notes)
    assert any(n.startswith("config: @ldl defaults for") and "lr=0.001" in n for n in cfg.notes)


def test_every_used_key_maps():
    s = {"backbone": "seresnext50_32x4d", "lr": 3e-4, "schedule": "cosine", "warmupEpochs": 0.5, "sigma": 3,
         "lambda": 0.5, "stepSize": 10, "gamma": 0.5, "batchSize": 64, "accumulationSteps": 2, "multiTask": True,
         "raceClasses": ["a", "b"], "flipTta": True, "bestBy": "ca5", "valFraction": 0, "augment": False}
    cfg = config_from_settings(s)
    assert (cfg.lr, cfg.schedule, cfg.warmup_epochs, cfg.sigma, cfg.lambda_, cfg.step_size, cfg.gamma) == (
        3e-4, "cosine", 0.5, 3, 0.5, 10, 0.5)
    assert (cfg.batch_size, cfg.accumulation_steps, cfg.multi_task, cfg.race_classes, cfg.flip_tta, cfg.best_by,
            cfg.val_fraction, cfg.augment) == (64, 2, True, ["a", "b"], True, "ca5", 0, False)
    assert set(DEFAULTS) == set(cfg.to_settings()) - {"preset"}


@pytest.mark.parametrize("settings, message", [
    ({"learningRate": 0.1}, "'learningRate' must be settings of ldl train"),
    ({"freeze": "layer3"}, "freeze must be \"none\""),
    ({"headHidden": 64}, "headHidden must be 0"),
    ({"lr": -1}, "lr must be a number > 0"),
    ({"schedule": "poly"}, "schedule must be one of step, cosine"),
    ({"batchSize": 10, "accumulationSteps": 3}, "batchSize must be divisible by accumulationSteps"),
    ({"preset": "small"}, "backbone must be given"),
])
def test_errors_name_the_key(settings, message):
    with pytest.raises(ValueError, match=message.replace("(", r"\(")):
        config_from_settings(settings, "run/config.json")


def test_unreadable_and_bad_json(tmp_path):
    with pytest.raises(ValueError, match="must be a readable file"):
        read_config(tmp_path / "nope.json")
    (tmp_path / "c.json").write_text("{")
    with pytest.raises(ValueError, match="must be JSON"):
        read_config(tmp_path / "c.json")
    (tmp_path / "c.json").write_text(json.dumps({"presets": {"small": {}}, "backbone": "resnet18"}))
    with pytest.raises(ValueError, match="presets must be resolved first"):
        read_config(tmp_path / "c.json")


def test_learning_rate_schedule_is_ldls():
    from ldl_torch.train import learning_rate_at
    step = config_from_settings({"lr": 1e-3, "stepSize": 4, "gamma": 0.2, "epochs": 8})
    assert [learning_rate_at(step, e, 0.5) for e in (1, 4, 5, 8)] == pytest.approx([1e-3, 1e-3, 2e-4, 2e-4])
    cos = config_from_settings({"lr": 1e-3, "schedule": "cosine", "warmupEpochs": 0.5, "epochs": 8})
    assert learning_rate_at(cos, 1, 0.25) == pytest.approx(0.5e-3)  # half-way through the warm-up
    assert learning_rate_at(cos, 1, 0.5) == pytest.approx(1e-3)
    assert learning_rate_at(cos, 8, 1.0) == pytest.approx(0.0, abs=1e-12)
    assert learning_rate_at(cos, 5, 0.25) == pytest.approx(0.5e-3)  # t = 4.25: half of the 7.5 cosine epochs
