"""Training settings read from @ldl's ``config.json``.

``ldl train`` writes ``RUN_DIR/config.json``: ``{"preset": …}`` plus every setting the preset fixes and every
setting the user gave, by the camelCase keys of ``ldl train --help`` (``imageSize`` for ``--image-size``).
A setting absent from the file takes @ldl's default (``runExperiment``'s), listed in :data:`DEFAULTS`.

Each key of the file is one of:

- **used** (:data:`USED`): mapped to a field of :class:`TrainConfig`;
- **not applicable** (:data:`NOT_APPLICABLE`): settings of @ldl's own data readers, tfjs backends or run folders,
  which the shards and ``torchrun`` replace; reported in ``notes`` and in the log, never silently dropped;
- **unsupported unless at its default** (:data:`UNSUPPORTED`): @ldl features this package does not
  implement (frozen stages, feature caches, other heads); a non-default value is an error;
- anything else is an error naming the key (a typo must not pass unnoticed).
"""
from __future__ import annotations

import dataclasses
import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

#: @ldl's defaults of the settings this package uses (``runExperimentUnrecorded`` and ``buildAgeModel``).
DEFAULTS: dict[str, Any] = {
    "backbone": "seresnext50_32x4d",
    "widthScale": 1.0,
    "depthScale": 1.0,
    "imageSize": 224,
    "multiTask": False,
    "epochs": 80,
    "batchSize": 128,
    "accumulationSteps": 1,
    "lr": 1e-3,
    "schedule": "step",
    "stepSize": 20,
    "gamma": 0.2,
    "warmupEpochs": 0.0,
    "sigma": 2.0,
    "lambda": 1.0,
    "loss": "ldl",
    "bestBy": "mae",
    "seed": 0,
    "augment": True,
    "valFraction": 0.1,
    "splitSeed": 0,
    "flipTta": False,
    "pretrained": None,
    "pretrainedStrict": True,
    "margin": 0.0,
    "crop": "stretch",
    "raceClasses": None,
    "title": None,
}

#: config.json key → TrainConfig field.
USED: dict[str, str] = {
    "backbone": "backbone",
    "widthScale": "width_scale",
    "depthScale": "depth_scale",
    "imageSize": "image_size",
    "multiTask": "multi_task",
    "epochs": "epochs",
    "batchSize": "batch_size",
    "accumulationSteps": "accumulation_steps",
    "lr": "lr",
    "schedule": "schedule",
    "stepSize": "step_size",
    "gamma": "gamma",
    "warmupEpochs": "warmup_epochs",
    "sigma": "sigma",
    "lambda": "lambda_",
    "loss": "loss",
    "bestBy": "best_by",
    "seed": "seed",
    "augment": "augment",
    "valFraction": "val_fraction",
    "splitSeed": "split_seed",
    "flipTta": "flip_tta",
    "pretrained": "pretrained",
    "pretrainedStrict": "pretrained_strict",
    "margin": "margin",
    "crop": "crop",
    "raceClasses": "race_classes",
    "title": "title",
}

#: Keys that have no meaning here, and why (reported, not an error).
NOT_APPLICABLE: dict[str, str] = {
    **{k: "data reading of ldl train; the shards replace it" for k in (
        "data", "dataFormat", "synthetic", "trainCsv", "testCsv", "faces", "aligned", "imageRoot", "photoCol",
        "ageCol", "genderCol", "raceCol", "skipBad", "verifyImages", "duplicates", "extraTrain", "split")},
    **{k: "tfjs backend setting" for k in ("backend", "wasmThreads", "fastKernels")},
    **{k: "run folder of ldl train; --out replaces it" for k in ("name", "runsDir", "runDir", "resume", "featureCacheDir")},
    "saveSamples": "not implemented here (samples.png)",
    "checkpoint": "setting of ldl eval/predict",
    "top": "setting of ldl predict",
}

#: Keys this package supports only at @ldl's default value (a different value is an error).
UNSUPPORTED: dict[str, Any] = {
    "pretrainedWeights": "none",
    "headFeatures": ["pool"],
    "headNorm": False,
    "headHidden": 0,
    "headDropout": 0,
    "freeze": "none",
    "backboneLrScale": 1,
    "cacheFeatures": False,
}

SCHEDULES = ("step", "cosine")
LOSSES = ("ldl", "ce", "mean-variance")
BEST_BY = ("mae", "ca3", "ca5", "ca7")
CROPS = ("stretch", "square-center", "square-bottom")


@dataclass
class TrainConfig:
    """Resolved training settings (fields mirror @ldl's ``ExperimentOptions``; see :data:`USED`)."""

    backbone: str = DEFAULTS["backbone"]
    width_scale: float = DEFAULTS["widthScale"]
    depth_scale: float = DEFAULTS["depthScale"]
    image_size: int = DEFAULTS["imageSize"]
    multi_task: bool = DEFAULTS["multiTask"]
    epochs: int = DEFAULTS["epochs"]
    #: Effective (global) batch per optimizer step, over every process; split evenly across ranks.
    batch_size: int = DEFAULTS["batchSize"]
    accumulation_steps: int = DEFAULTS["accumulationSteps"]
    lr: float = DEFAULTS["lr"]
    schedule: str = DEFAULTS["schedule"]
    step_size: int = DEFAULTS["stepSize"]
    gamma: float = DEFAULTS["gamma"]
    warmup_epochs: float = DEFAULTS["warmupEpochs"]
    min_lr: float = 0.0
    sigma: float = DEFAULTS["sigma"]
    lambda_: float = DEFAULTS["lambda"]
    loss: str = DEFAULTS["loss"]
    best_by: str = DEFAULTS["bestBy"]
    seed: int = DEFAULTS["seed"]
    augment: bool = DEFAULTS["augment"]
    val_fraction: float = DEFAULTS["valFraction"]
    split_seed: int = DEFAULTS["splitSeed"]
    flip_tta: bool = DEFAULTS["flipTta"]
    pretrained: str | None = DEFAULTS["pretrained"]
    pretrained_strict: bool = DEFAULTS["pretrainedStrict"]
    margin: float = DEFAULTS["margin"]
    crop: str = DEFAULTS["crop"]
    race_classes: list[str] | None = DEFAULTS["raceClasses"]
    title: str | None = DEFAULTS["title"]
    #: The preset named by the file (informational).
    preset: str | None = None
    #: What was read and what was left out, one line each (logged by the trainer).
    notes: list[str] = field(default_factory=list)

    def check(self, where: str = "TrainConfig") -> "TrainConfig":
        """Validates every field; returns self. Raises ValueError naming the setting."""

        def bad(key: str, expected: str, got: Any) -> None:
            raise ValueError(f"Error in {where}: {key} must be {expected}, but got {json.dumps(got)}.")

        for key, fld in (("imageSize", "image_size"), ("epochs", "epochs"), ("batchSize", "batch_size"),
                         ("accumulationSteps", "accumulation_steps"), ("stepSize", "step_size")):
            v = getattr(self, fld)
            if not isinstance(v, int) or isinstance(v, bool) or v < 1:
                bad(key, "an integer ≥ 1", v)
        for key, fld in (("lr", "lr"), ("gamma", "gamma"), ("sigma", "sigma"), ("widthScale", "width_scale"),
                         ("depthScale", "depth_scale")):
            v = getattr(self, fld)
            if not isinstance(v, (int, float)) or isinstance(v, bool) or not math.isfinite(v) or v <= 0:
                bad(key, "a number > 0", v)
        for key, fld in (("lambda", "lambda_"), ("warmupEpochs", "warmup_epochs"), ("margin", "margin")):
            v = getattr(self, fld)
            if not isinstance(v, (int, float)) or isinstance(v, bool) or not math.isfinite(v) or v < 0:
                bad(key, "a number ≥ 0", v)
        if not (isinstance(self.val_fraction, (int, float)) and 0 <= self.val_fraction < 1):
            bad("valFraction", "a number in [0, 1)", self.val_fraction)
        for key, fld, choices in (("schedule", "schedule", SCHEDULES), ("loss", "loss", LOSSES),
                                  ("bestBy", "best_by", BEST_BY), ("crop", "crop", CROPS)):
            if getattr(self, fld) not in choices:
                bad(key, f"one of {', '.join(choices)}", getattr(self, fld))
        for key, fld in (("multiTask", "multi_task"), ("augment", "augment"), ("flipTta", "flip_tta"),
                         ("pretrainedStrict", "pretrained_strict")):
            if not isinstance(getattr(self, fld), bool):
                bad(key, "true or false", getattr(self, fld))
        for key, fld in (("seed", "seed"), ("splitSeed", "split_seed")):
            v = getattr(self, fld)
            if not isinstance(v, int) or isinstance(v, bool):
                bad(key, "an integer", v)
        if self.batch_size % self.accumulation_steps:
            bad("batchSize", f"divisible by accumulationSteps ({self.accumulation_steps})", self.batch_size)
        if self.multi_task and self.loss != "ldl":
            bad("loss", "ldl for a multi-task model (as @ldl's Trainer)", self.loss)
        return self

    def to_settings(self) -> dict[str, Any]:
        """The used settings by config.json key (what a report records)."""
        out: dict[str, Any] = {"preset": self.preset} if self.preset else {}
        for key, fld in USED.items():
            out[key] = getattr(self, fld)
        return out


def config_from_settings(settings: dict[str, Any], where: str = "config") -> TrainConfig:
    """Builds a :class:`TrainConfig` from parsed config.json settings.

    @throws ValueError naming ``where`` and the key of an unknown setting, an unsupported non-default value or
    an invalid value.
    """
    if not isinstance(settings, dict):
        raise ValueError(f"Error in read_config: {where} must be a JSON object of settings, but got {json.dumps(settings)}.")
    cfg = TrainConfig()
    unknown = [k for k in settings if k not in USED and k not in NOT_APPLICABLE and k not in UNSUPPORTED
               and k not in ("preset", "presets")]
    if unknown:
        raise ValueError(
            f"Error in read_config: {where}: {', '.join(repr(k) for k in unknown)} must be settings of ldl train "
            f"(known here: {', '.join(sorted([*USED, *NOT_APPLICABLE, *UNSUPPORTED]))}), but they are not.")
    if "presets" in settings:
        raise ValueError(
            f"Error in read_config: {where}: presets must be resolved first (pass the config.json that ldl train "
            "writes into its run directory), but the file has a presets section.")
    preset = settings.get("preset")
    cfg.preset = preset
    for key, expected in UNSUPPORTED.items():
        if key in settings and settings[key] != expected:
            raise ValueError(
                f"Error in read_config: {where}: {key} must be {json.dumps(expected)} (this package trains the whole "
                f"network from its timm backbone and the age head), but got {json.dumps(settings[key])}.")
    for key, fld in USED.items():
        if key in settings:
            setattr(cfg, fld, settings[key])
    if isinstance(cfg.width_scale, int):
        cfg.width_scale = float(cfg.width_scale)
    if isinstance(cfg.depth_scale, int):
        cfg.depth_scale = float(cfg.depth_scale)
    ignored = [k for k in settings if k in NOT_APPLICABLE]
    for k in ignored:
        cfg.notes.append(f"config: {k} = {json.dumps(settings[k])} not applicable ({NOT_APPLICABLE[k]})")
    defaulted = [k for k in USED if k not in settings]
    if defaulted:
        cfg.notes.append("config: @ldl defaults for " + ", ".join(f"{k}={json.dumps(DEFAULTS[k])}" for k in defaulted))
    if "backbone" not in settings and preset not in (None, "paper"):
        raise ValueError(
            f"Error in read_config: {where}: backbone must be given (preset {json.dumps(preset)} is resolved by ldl "
            "train; pass the config.json of a run), but the file has none.")
    return cfg.check(f"read_config: {where}")


def read_config(path: str | Path) -> TrainConfig:
    """Reads @ldl's ``config.json`` (a run's resolved settings) into a :class:`TrainConfig`."""
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except OSError as e:
        raise ValueError(f"Error in read_config: --config {path} must be a readable file, but got {e}.") from e
    try:
        settings = json.loads(text)
    except json.JSONDecodeError as e:
        raise ValueError(f"Error in read_config: {p} must be JSON, but it does not parse: {e}.") from e
    cfg = config_from_settings(settings, str(p))
    if isinstance(cfg.pretrained, str) and not Path(cfg.pretrained).is_absolute():
        cfg.pretrained = str((p.parent / cfg.pretrained).resolve())
    return cfg


def replace(cfg: TrainConfig, **changes: Any) -> TrainConfig:
    """A copy of ``cfg`` with fields changed, checked."""
    return dataclasses.replace(cfg, notes=list(cfg.notes), **changes).check()
