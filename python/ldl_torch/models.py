"""@ldl's age models as timm modules, and their safetensors files.

Weight names are timm's (as @ldl's own layer names), so a file moves between @ldl (``ldl export --format
safetensors`` / ``ldl import``) and PyTorch by renaming only. A file carries, in the safetensors ``__metadata__``:
``"preprocessor.json"`` (the text of @ldl's ``preprocessor.json``), ``"format": "pt"`` and ``"timm_model"`` (the
``timm.create_model`` name). @ldl's small models (``widthScale``/``depthScale`` ≠ 1) are timm ``ResNet``s with
other ``layers``/``channels`` and stem width; :func:`load_model` reads those from the tensor shapes.
"""
from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import timm
import torch
from safetensors import safe_open
from safetensors.torch import save_file
from torch import nn

from .config import TrainConfig

#: @ldl backbone name → timm model name.
TIMM_NAMES = {
    "resnet18": "resnet18",
    "resnet34": "resnet34",
    "resnet50": "resnet50",
    "resnext50_32x4d": "resnext50_32x4d",
    "seresnext50_32x4d": "seresnext50_32x4d",
    "vgg16bn": "vgg16_bn",
}
LDL_NAMES = {v: k for k, v in TIMM_NAMES.items()}
RESNET_DEPTHS = {"resnet18": [2, 2, 2, 2], "resnet34": [3, 4, 6, 3], "resnet50": [3, 4, 6, 3],
                 "resnext50_32x4d": [3, 4, 6, 3], "seresnext50_32x4d": [3, 4, 6, 3]}
BASE_CHANNELS = (64, 128, 256, 512)
IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)
GENDER_CLASSES = ["male", "female"]
PREPROCESSOR_KEY = "preprocessor.json"


def _js_round(x: float) -> int:
    return int(math.floor(x + 0.5))


def scale_channels(c: int, scale: float) -> int:
    """@ldl's ``scaleChannels``: ``max(1, round(c·scale))`` (halves up)."""
    return max(1, _js_round(c * scale))


def _kaiming(m: nn.Module) -> None:
    for mod in m.modules():
        if isinstance(mod, nn.Conv2d):
            nn.init.kaiming_normal_(mod.weight, mode="fan_out", nonlinearity="relu")


def _set_stem(model: nn.Module, stem: int) -> None:
    """Gives a timm ResNet a stem of ``stem`` channels (timm's plain stem is always 64), as @ldl's scaled models."""
    model.conv1 = nn.Conv2d(3, stem, kernel_size=7, stride=2, padding=3, bias=False)
    model.bn1 = nn.BatchNorm2d(stem)
    block = model.layer1[0]
    old = block.conv1
    block.conv1 = nn.Conv2d(stem, old.out_channels, kernel_size=old.kernel_size, stride=old.stride,
                            padding=old.padding, groups=old.groups, bias=False)
    out = (block.conv3 if hasattr(block, "conv3") else block.conv2).out_channels
    block.downsample = None if stem == out else nn.Sequential(nn.Conv2d(stem, out, 1, bias=False), nn.BatchNorm2d(out))
    _kaiming(model.conv1)
    _kaiming(block)


def build_resnet(timm_name: str, num_classes: int, layers: list[int] | None = None,
                 channels: tuple[int, ...] = BASE_CHANNELS, stem: int = 64) -> nn.Module:
    """A timm ResNet-family model, optionally with other stage depths, stage channels and stem width."""
    if layers is None and channels == BASE_CHANNELS and stem == 64:
        return timm.create_model(timm_name, pretrained=False, num_classes=num_classes)
    kw: dict[str, Any] = {"channels": tuple(channels)}
    if layers is not None:
        kw["layers"] = list(layers)
    model = timm.create_model(timm_name, pretrained=False, num_classes=num_classes, **kw)
    if stem != 64:
        _set_stem(model, stem)
    return model


class MultiTaskAgeModel(nn.Module):
    """@ldl's ``multiTaskAgeModel`` (the paper's): ``layer2`` → avg pool → ``gender`` and ``ethnicity`` (Linear);
    the pooled ``layer4`` features concatenated with both logits → ``age`` (Linear). Weight names are the trunk's
    timm names plus ``gender.*``, ``ethnicity.*``, ``age.*``. ``forward`` returns ``(age, gender, ethnicity)`` logits.
    """

    def __init__(self, trunk: nn.Module, num_classes: int = 101, num_genders: int = 2, num_ethnicities: int = 5) -> None:
        super().__init__()
        for name in ("conv1", "bn1", "act1", "maxpool", "layer1", "layer2", "layer3", "layer4"):
            setattr(self, name, getattr(trunk, name))
        mid = _out_channels(self.layer2)
        top = _out_channels(self.layer4)
        self.gender = nn.Linear(mid, num_genders)
        self.ethnicity = nn.Linear(mid, num_ethnicities)
        self.age = nn.Linear(top + num_genders + num_ethnicities, num_classes)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        y = self.maxpool(self.act1(self.bn1(self.conv1(x))))
        mid = self.layer2(self.layer1(y))
        top = self.layer4(self.layer3(mid)).mean(dim=(2, 3))
        m = mid.mean(dim=(2, 3))
        gender = self.gender(m)
        ethnicity = self.ethnicity(m)
        return self.age(torch.cat([top, gender, ethnicity], dim=1)), gender, ethnicity


def _out_channels(stage: nn.Sequential) -> int:
    block = stage[-1]
    return (block.bn3 if hasattr(block, "bn3") else block.bn2).num_features


def build_model(cfg: TrainConfig, num_classes: int = 101, num_ethnicities: int = 5) -> nn.Module:
    """The model ``ldl train`` builds for ``cfg`` (backbone, widthScale, depthScale, multiTask), randomly initialised.

    :raises ValueError: for a backbone without a timm counterpart (face-api backbones) or a scaled VGG.
    """
    name = cfg.backbone
    if name not in TIMM_NAMES:
        raise ValueError(f"Error in build_model: backbone must be one of {', '.join(TIMM_NAMES)} (the backbones with a "
                         f"timm counterpart), but got {json.dumps(name)}.")
    if name == "vgg16bn":
        if cfg.width_scale != 1 or cfg.multi_task:
            raise ValueError("Error in build_model: vgg16bn must have widthScale 1 and no multiTask here (timm's vgg16_bn), "
                             f"but got widthScale {cfg.width_scale}, multiTask {cfg.multi_task}.")
        return timm.create_model("vgg16_bn", pretrained=False, num_classes=num_classes)
    layers = [max(1, _js_round(d * cfg.depth_scale)) for d in RESNET_DEPTHS[name]]
    channels = tuple(scale_channels(c, cfg.width_scale) for c in BASE_CHANNELS)
    stem = scale_channels(64, cfg.width_scale)
    plain = cfg.width_scale == 1 and cfg.depth_scale == 1
    if cfg.multi_task:
        trunk = build_resnet(TIMM_NAMES[name], 0, None if plain else layers, channels, stem)
        model: nn.Module = MultiTaskAgeModel(trunk, num_classes, len(GENDER_CLASSES), num_ethnicities)
    else:
        model = build_resnet(TIMM_NAMES[name], num_classes, None if plain else layers, channels, stem)
    # Read by save_model: timm has no named model at a reduced width or depth (as ldl export, no timm_model then).
    model.ldl_timm_sized = plain
    return model


def model_outputs(model: nn.Module, x: torch.Tensor) -> dict[str, torch.Tensor]:
    """``{"age": [N, C]}``, plus ``"gender"`` and ``"ethnicity"`` for a multi-task model."""
    out = model(x)
    if isinstance(out, (tuple, list)):
        return {"age": out[0], "gender": out[1], "ethnicity": out[2]}
    return {"age": out}


def preprocessor_json(cfg: TrainConfig, *, margin: float, crop: str, gender_classes: list[str] | None = None,
                      ethnicity_classes: list[str] | None = None, num_classes: int = 101) -> dict[str, Any]:
    """@ldl's ``preprocessor.json`` (format ``ldl-preprocessor``, version 2) for a model trained here."""
    return {
        "format": "ldl-preprocessor", "version": 2, "inputSize": cfg.image_size, "colorOrder": "rgb",
        "mean": list(IMAGENET_MEAN), "std": list(IMAGENET_STD), "crop": crop, "margin": margin,
        "heads": ["age", "gender", "ethnicity"] if cfg.multi_task else ["age"], "minAge": 0, "numClasses": num_classes,
        "sigma": cfg.sigma, "genderClasses": list(gender_classes or GENDER_CLASSES) if cfg.multi_task else None,
        "ethnicityClasses": list(ethnicity_classes) if cfg.multi_task else None, "backbone": cfg.backbone, "weights": None,
    }


def unwrap(model: nn.Module) -> nn.Module:
    """The module inside a DistributedDataParallel / compiled wrapper."""
    while hasattr(model, "module") or hasattr(model, "_orig_mod"):
        model = getattr(model, "module", None) or getattr(model, "_orig_mod")
    return model


def save_model(model: nn.Module, path: str | Path, preprocessor: dict[str, Any]) -> None:
    """Writes the model's state dict (timm names, float32, buffers included) as safetensors with @ldl's metadata.

    The file is written to ``path + '.tmp'`` and renamed, so a crash never leaves a half-written model.
    ``timm_model`` is left out for a reduced width or depth (``build_model`` marks those), as ``ldl export`` does.
    """
    m = unwrap(model)
    state = {k: v.detach().to("cpu").contiguous().clone() for k, v in m.state_dict().items()}
    backbone = preprocessor["backbone"]
    meta = {PREPROCESSOR_KEY: json.dumps(preprocessor), "format": "pt"}
    if getattr(m, "ldl_timm_sized", True):
        meta["timm_model"] = TIMM_NAMES.get(backbone, backbone)
    path = Path(path)
    tmp = path.with_name(path.name + ".tmp")
    save_file(state, str(tmp), metadata=meta)
    tmp.replace(path)


def read_safetensors(path: str | Path) -> tuple[dict[str, torch.Tensor], dict[str, str]]:
    """The tensors and the ``__metadata__`` of a safetensors file."""
    with safe_open(str(path), framework="pt") as f:
        meta = f.metadata() or {}
        return {k: f.get_tensor(k) for k in f.keys()}, meta


def _infer_resnet(state: dict[str, torch.Tensor]) -> tuple[list[int], tuple[int, ...], int]:
    layers, channels = [], []
    for i in range(1, 5):
        blocks = {k.split(".")[1] for k in state if k.startswith(f"layer{i}.")}
        layers.append(len(blocks))
        w = state.get(f"layer{i}.0.conv3.weight")
        channels.append(w.shape[0] // 4 if w is not None else state[f"layer{i}.0.conv2.weight"].shape[0])
    return layers, tuple(channels), state["conv1.weight"].shape[0]


def load_state(model: nn.Module, state: dict[str, torch.Tensor], *, strict: bool = True, source: str = "") -> list[str]:
    """``load_state_dict`` with PyTorch's strictness; returns notes. Only missing ``num_batches_tracked`` buffers
    (unused by BatchNorm with a momentum) are allowed under ``strict``, and reported.

    :raises ValueError: naming the missing, unexpected and mis-shaped keys.
    """
    own = unwrap(model).state_dict()
    missing = [k for k in own if k not in state]
    unexpected = [k for k in state if k not in own]
    shapes = [f"{k} {list(state[k].shape)} (model {list(own[k].shape)})" for k in own
              if k in state and state[k].shape != own[k].shape]
    notes = []
    benign = [k for k in missing if k.endswith("num_batches_tracked")]
    hard_missing = [k for k in missing if k not in benign]
    if shapes or (strict and (hard_missing or unexpected)):
        def lst(xs: list[str]) -> str:
            return ", ".join(xs[:8]) + (f", … ({len(xs)})" if len(xs) > 8 else "") if xs else "none"
        raise ValueError(f"Error in load_state: {source or 'the state dict'} must match the model "
                         f"({'strict' if strict else 'shapes'}), but got missing: {lst(hard_missing)}; unexpected: "
                         f"{lst(unexpected)}; other shapes: {lst(shapes)}.")
    merged = {k: v for k, v in state.items() if k in own}
    for k in missing:
        merged[k] = own[k]
    unwrap(model).load_state_dict(merged, strict=True)
    if benign:
        notes.append(f"{source}: {len(benign)} num_batches_tracked buffers absent, kept at the model's values")
    if not strict and (hard_missing or unexpected):
        notes.append(f"{source}: not strict: {len(hard_missing)} missing, {len(unexpected)} unexpected keys")
    return notes


def load_model(path: str | Path) -> tuple[nn.Module, dict[str, Any]]:
    """Loads a safetensors file written by :func:`save_model` or by ``ldl export --format safetensors``.

    The architecture comes from the metadata (``timm_model``, else ``preprocessor.json``'s backbone; its heads and
    classes) and the tensor shapes (stage depths and widths of @ldl's small models); the weights load with
    ``strict=True``.

    :returns: ``(model, preprocessor)``, the model in eval mode.
    :raises ValueError: for a file without @ldl's metadata, an unsupported model, or weights that do not fit.
    """
    state, meta = read_safetensors(path)
    if PREPROCESSOR_KEY not in meta:
        raise ValueError(f"Error in load_model: {path} must carry @ldl's metadata ({PREPROCESSOR_KEY!r}, written by "
                         f"ldl export --format safetensors or ldl_torch), but has keys {sorted(meta)}.")
    pre = json.loads(meta[PREPROCESSOR_KEY])
    # ldl export leaves timm_model out for a reduced width/depth (timm has no such named model): the
    # preprocessor's backbone names the family, the tensor shapes give the size.
    timm_name = meta.get("timm_model") or TIMM_NAMES.get(pre.get("backbone"), pre.get("backbone"))
    multi = pre.get("heads") == ["age", "gender", "ethnicity"]
    num_classes = int(pre["numClasses"])
    if timm_name == "vgg16_bn":
        model = timm.create_model("vgg16_bn", pretrained=False, num_classes=num_classes)
    elif timm_name in LDL_NAMES:
        layers, channels, stem = _infer_resnet(state)
        trunk = build_resnet(timm_name, 0 if multi else num_classes, layers, channels, stem)
        model = (MultiTaskAgeModel(trunk, num_classes, len(pre["genderClasses"]), len(pre["ethnicityClasses"]))
                 if multi else trunk)
    else:
        raise ValueError(f"Error in load_model: {path}: timm_model must be one of {', '.join(LDL_NAMES)}, "
                         f"but got {json.dumps(timm_name)}.")
    load_state(model, state, strict=True, source=str(path))
    return model.eval(), pre
