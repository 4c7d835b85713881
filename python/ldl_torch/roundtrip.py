"""The PyTorch half of @ldl's export → train → import check.

``python -m ldl_torch.roundtrip IN.safetensors OUT.safetensors [--steps 2] [--probe probe.json]`` loads a file
that ``ldl export --format safetensors`` wrote (``strict=True``), trains it ``steps`` Adam steps on seeded random
inputs with @ldl's loss, saves it with the same ``preprocessor.json`` metadata, and writes ``probe.json``: a fixed
input batch (NCHW and NHWC) and the trained model's eval-mode logits on it, for @ldl to compare after
``ldl import OUT.safetensors`` (the issue asks for ≤ 1e-4).
"""
from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

import torch

from .config import TrainConfig
from .losses import compute_loss
from .models import load_model, model_outputs, save_model


def finetune_exported(src: str | Path, dst: str | Path, *, steps: int = 2, batch: int = 4, lr: float = 1e-3,
                      seed: int = 0, probe: str | Path | None = None) -> dict[str, Any]:
    """Loads ``src`` (strict), trains ``steps`` steps, saves ``dst`` with ``src``'s preprocessor.json.

    :returns: ``{"input": [2, 3, S, S] list, "inputNHWC": [2, S, S, 3] list, "logits": {head: list}, "loss": [...]}``
      (also written to ``probe`` when given).
    """
    model, pre = load_model(src)
    heads = pre["heads"]
    cfg = TrainConfig(backbone=pre["backbone"], image_size=pre["inputSize"], sigma=pre["sigma"],
                      multi_task=len(heads) == 3)
    g = torch.Generator().manual_seed(seed)
    s = pre["inputSize"]
    model.train()
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    losses = []
    for _ in range(steps):
        x = torch.randn(batch, 3, s, s, generator=g)
        target = {"age": torch.rand(batch, generator=g) * (pre["numClasses"] - 1) + pre["minAge"]}
        if cfg.multi_task:
            target["gender"] = torch.randint(0, len(pre["genderClasses"]), (batch,), generator=g)
            target["ethnicity"] = torch.randint(0, len(pre["ethnicityClasses"]), (batch,), generator=g)
        opt.zero_grad()
        loss = compute_loss(cfg, model_outputs(model, x), target)
        loss.backward()
        opt.step()
        losses.append(loss.item())
    save_model(model, dst, pre)
    model.eval()
    x = torch.randn(2, 3, s, s, generator=g)
    with torch.no_grad():
        out = model_outputs(model, x)
    result = {"input": x.tolist(), "inputNHWC": x.permute(0, 2, 3, 1).tolist(),
              "logits": {k: v.tolist() for k, v in out.items()}, "loss": losses}
    if probe is not None:
        Path(probe).write_text(json.dumps(result), encoding="utf-8")
    return result


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m ldl_torch.roundtrip", description=__doc__.split("\n\n")[0])
    ap.add_argument("src")
    ap.add_argument("dst")
    ap.add_argument("--steps", type=int, default=2)
    ap.add_argument("--batch", type=int, default=4)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--probe", help="write the probe input and logits here (JSON)")
    a = ap.parse_args(argv)
    r = finetune_exported(a.src, a.dst, steps=a.steps, batch=a.batch, seed=a.seed, probe=a.probe)
    print(f"trained {a.steps} steps (loss {', '.join(f'{v:.4f}' for v in r['loss'])}); wrote {a.dst}"
          + (f" and {a.probe}" if a.probe else ""))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
