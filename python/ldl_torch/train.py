"""``python -m ldl_torch.train --config config.json --shards DIR --out OUT``: @ldl's recipe on PyTorch DDP.

Run it under ``torchrun --nproc-per-node N`` for N processes (NCCL on GPUs, gloo on CPU), on one node or many.
``batchSize`` of the config is the global batch of one optimizer step: each of the N ranks takes
``batchSize / (N · accumulationSteps)`` samples per micro-batch and DDP averages the gradients, so the step is the
single-process step on the whole batch (BatchNorm statistics stay per rank, as in any DDP run; ``--sync-bn`` on
GPUs shares them).

Outputs (rank 0 writes, each file replaced atomically):
- ``OUT/model.safetensors``: the best epoch's weights (by ``bestBy`` on the validation split), timm names, with
  ``preprocessor.json`` in the metadata: ``ldl import`` reads it;
- ``OUT/checkpoint.pt``: model, optimizer, epoch and history after each epoch (``--resume`` continues from it);
- ``OUT/report.json``: settings, per-epoch history, the test split's metrics of the best model;
- ``OUT/train.log``: what was printed.
"""
from __future__ import annotations

import argparse
import contextlib
import json
import math
import os
import sys
import time
from pathlib import Path
from typing import Any, Callable

import numpy as np
import torch
from torch import nn
from torch.nn.parallel import DistributedDataParallel as DDP
from torch.utils.data import DataLoader, DistributedSampler

from . import distributed
from .config import TrainConfig, read_config
from .losses import compute_loss, expected_age
from .metrics import AgeMetrics, best_value
from .models import (IMAGENET_MEAN, IMAGENET_STD, GENDER_CLASSES, build_model, load_state, model_outputs,
                     preprocessor_json, read_safetensors, save_model, unwrap)
from .shards import Sample, ShardDataset, open_shards

#: Settings that must not change on --resume (as @ldl's Trainer's RESUME_KEYS).
RESUME_KEYS = ("backbone", "widthScale", "depthScale", "imageSize", "multiTask", "loss", "lr", "stepSize", "gamma",
               "schedule", "warmupEpochs", "sigma", "lambda", "accumulationSteps", "batchSize", "seed", "bestBy",
               "valFraction", "splitSeed")


def learning_rate_at(cfg: TrainConfig, epoch: int, fraction: float = 0.0) -> float:
    """@ldl's ``Trainer.learningRateAt``: warm-up, then StepLR ``lr·γ^⌊(epoch−1)/stepSize⌋`` or cosine (1-based epoch)."""
    t = epoch - 1 + fraction
    warm = min(1.0, t / cfg.warmup_epochs) if cfg.warmup_epochs > 0 else 1.0
    if cfg.schedule == "cosine":
        span = max(1e-9, cfg.epochs - cfg.warmup_epochs)
        p = min(1.0, max(0.0, (t - cfg.warmup_epochs) / span))
        return warm * (cfg.min_lr + (cfg.lr - cfg.min_lr) * 0.5 * (1 + math.cos(math.pi * p)))
    return warm * cfg.lr * cfg.gamma ** ((epoch - 1) // cfg.step_size)


def _to(target: dict[str, torch.Tensor], device: torch.device) -> dict[str, torch.Tensor]:
    return {k: v.to(device, non_blocking=True) for k, v in target.items()}


def train_step(model: nn.Module, optimizer: torch.optim.Optimizer, micro_batches: list, cfg: TrainConfig,
               device: torch.device, *, amp: bool = False) -> float:
    """One optimizer step over ``micro_batches`` (gradient accumulation; DDP syncs on the last). Returns the loss."""
    optimizer.zero_grad(set_to_none=True)
    total = 0.0
    n = len(micro_batches)
    for i, (x, target) in enumerate(micro_batches):
        x = x.to(device, non_blocking=True)
        target = _to(target, device)
        sync = i == n - 1 or not isinstance(model, DDP)
        ctx = model.no_sync() if not sync else contextlib.nullcontext()
        with ctx:
            with torch.autocast(device.type, dtype=torch.bfloat16, enabled=amp):
                out = model_outputs(model, x)
            loss = compute_loss(cfg, {k: v.float() for k, v in out.items()}, target) / n
            loss.backward()
        total += loss.item()
    optimizer.step()
    return total


@torch.no_grad()
def evaluate(model: nn.Module, loader: DataLoader, cfg: TrainConfig, device: torch.device, *,
             amp: bool = False) -> dict[str, Any]:
    """MAE / CA / loss over the loader (each rank its share), summed over ranks. Flip TTA averages the softmax."""
    model = unwrap(model)  # no DDP collectives inside: ranks may hold different numbers of batches
    model.eval()
    metrics = AgeMetrics()
    correct = torch.zeros(3, dtype=torch.float64)  # gender right, ethnicity right, labelled count
    for x, target in loader:
        x = x.to(device, non_blocking=True)
        target = _to(target, device)
        with torch.autocast(device.type, dtype=torch.bfloat16, enabled=amp):
            out = {k: v.float() for k, v in model_outputs(model, x).items()}
        p = torch.softmax(out["age"], dim=1)
        if cfg.flip_tta:
            with torch.autocast(device.type, dtype=torch.bfloat16, enabled=amp):
                flipped = model_outputs(model, torch.flip(x, dims=[3]))
            p = 0.5 * (p + torch.softmax(flipped["age"].float(), dim=1))
        loss = compute_loss(cfg, out, target) if not cfg.multi_task or (target["gender"] >= 0).all() else torch.tensor(0.0)
        metrics.update(expected_age(p, probabilities=True), target["age"], loss.item() * x.shape[0])
        if cfg.multi_task:
            ok = target["gender"] >= 0
            correct[0] += (out["gender"].argmax(1)[ok] == target["gender"][ok]).sum().item()
            correct[1] += (out["ethnicity"].argmax(1)[ok] == target["ethnicity"][ok]).sum().item()
            correct[2] += ok.sum().item()
    metrics.state = torch.cat([metrics.state, correct])
    if torch.distributed.is_initialized():
        t = metrics.state.to(device)
        torch.distributed.all_reduce(t)
        metrics.state = t.cpu()
    correct = metrics.state[-3:]
    metrics.state = metrics.state[:-3]
    model.train()
    result = metrics.result()
    if cfg.multi_task and correct[2] > 0:
        result["genderAcc"] = 100.0 * correct[0].item() / correct[2].item()
        result["ethnicityAcc"] = 100.0 * correct[1].item() / correct[2].item()
    return result


def split_validation(samples: list[Sample], fraction: float, seed: int) -> tuple[list[Sample], list[Sample]]:
    """Holds out ``round(n·fraction)`` samples (whole photos) by a seeded permutation: ``(train, val)``."""
    photos = sorted({s.photo for s in samples})
    order = np.random.default_rng(seed).permutation(len(photos))
    target = round(len(samples) * fraction)
    counts: dict[str, int] = {}
    for s in samples:
        counts[s.photo] = counts.get(s.photo, 0) + 1
    held: set[str] = set()
    n = 0
    for i in order:
        if n >= target:
            break
        held.add(photos[i])
        n += counts[photos[i]]
    return [s for s in samples if s.photo not in held], [s for s in samples if s.photo in held]


class Logger:
    """Prints on rank 0 and appends to ``OUT/train.log``."""

    def __init__(self, out: Path, main: bool) -> None:
        self.file = out / "train.log" if main else None
        self.main = main

    def __call__(self, line: str) -> None:
        if not self.main:
            return
        print(line, flush=True)
        assert self.file is not None
        with open(self.file, "a", encoding="utf-8") as f:
            f.write(line + "\n")


def _atomic_json(path: Path, obj: Any) -> None:
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(obj, indent=2) + "\n", encoding="utf-8")
    tmp.replace(path)


def init_from(model: nn.Module, path: str, strict: bool, log: Callable[[str], None]) -> None:
    """Loads a safetensors state dict (``ldl export --format safetensors``, timm names) into ``model``."""
    state, meta = read_safetensors(path)
    for note in load_state(model, state, strict=strict, source=path):
        log(note)
    log(f"init: {path} ({len(state)} tensors{', timm_model ' + meta['timm_model'] if 'timm_model' in meta else ''}"
        f"{', strict' if strict else ', not strict'})")


def run(cfg: TrainConfig, shards: str, out: str, *, init: str | None = None, resume: bool = False,
        workers: int = 2, device: str = "auto", amp: bool = False, sync_bn: bool = False, verify: bool = True,
        max_steps: int | None = None) -> dict[str, Any] | None:
    """Trains ``cfg`` on the shards in ``shards``, writing into ``out`` (see the module doc). Call it in every rank.

    :param max_steps: stop each epoch after this many optimizer steps (smoke tests).
    :returns: the report (rank 0), ``None`` on the other ranks.
    """
    d = distributed.setup(device)
    outdir = Path(out)
    t_start = time.time()
    try:
        if distributed.any_rank(not resume and (outdir / "checkpoint.pt").exists()):
            raise ValueError(f"Error in train: --out {outdir} must not hold a run (it has checkpoint.pt): --resume "
                             "continues it, or name another folder.")
        if d.is_main:
            outdir.mkdir(parents=True, exist_ok=True)
        distributed.barrier()
        log = Logger(outdir, d.is_main)
        return _run(cfg, shards, outdir, d, log, init=init, resume=resume, workers=workers, amp=amp,
                    sync_bn=sync_bn, verify=verify, max_steps=max_steps, t_start=t_start)
    finally:
        distributed.teardown()


def _run(cfg: TrainConfig, shards: str, outdir: Path, d: distributed.DistInfo, log: Logger, *, init: str | None,
         resume: bool, workers: int, amp: bool, sync_bn: bool, verify: bool, max_steps: int | None,
         t_start: float) -> dict[str, Any] | None:
    for note in cfg.notes:
        log(note)
    micro_global = cfg.batch_size // cfg.accumulation_steps
    if micro_global % d.world_size:
        raise ValueError(f"Error in train: batchSize / accumulationSteps ({micro_global}) must be divisible by the "
                         f"number of processes ({d.world_size}), but it is not.")
    per_rank = micro_global // d.world_size
    pack = open_shards(shards, ("train", "test"), verify=verify, rank=d.rank, world_size=d.world_size)
    if pack.image_size != cfg.image_size:
        raise ValueError(f"Error in train: the shards' imageSize ({pack.image_size}, {pack.root / 'shards.json'}) must "
                         f"equal the config's imageSize ({cfg.image_size}), but they differ: pack again at that size.")
    meta = pack.meta
    if cfg.margin != meta.get("margin", cfg.margin):
        log(f"note: the shards were cropped with margin {meta.get('margin')}, the config says {cfg.margin}: "
            f"preprocessor.json records the shards' margin")
    gender_classes = pack.gender_classes or GENDER_CLASSES
    ethnicity_classes = pack.ethnicity_classes or cfg.race_classes
    if cfg.multi_task and not ethnicity_classes:
        raise ValueError(f"Error in train: multiTask needs the ethnicity classes (shards.json classes.ethnicity or the "
                         f"config's raceClasses), but {pack.root / 'shards.json'} has none.")
    train_samples = pack.splits["train"]
    test_samples = pack.splits.get("test", [])
    if cfg.val_fraction > 0:
        train_samples, val_samples = split_validation(train_samples, cfg.val_fraction, cfg.split_seed)
        val_note = f"validation: {round(cfg.val_fraction * 100)} % of train (seed {cfg.split_seed})"
    else:
        val_samples = test_samples
        val_note = "validation = test split (the paper protocol: test figures are optimistic)"
    if not val_samples:
        raise ValueError("Error in train: the validation split must hold samples, but it is empty (valFraction 0 "
                         "and no test split in shards.json, or too few training samples).")
    log(f"data: {pack.root}: train {len(train_samples)}, validation {len(val_samples)}, test {len(test_samples)}; "
        f"{pack.image_size} px, margin {meta.get('margin')}, crop {meta.get('crop')}; {val_note}; "
        f"augmentation {'on' if cfg.augment else 'off'}")
    common = dict(image_size=pack.image_size, mean=IMAGENET_MEAN, std=IMAGENET_STD, gender_classes=gender_classes,
                  ethnicity_classes=ethnicity_classes)
    train_ds = ShardDataset(train_samples, augment=cfg.augment, seed=cfg.seed, **common)
    sampler = DistributedSampler(train_ds, num_replicas=d.world_size, rank=d.rank, shuffle=True, seed=cfg.seed)
    loader_kw = dict(num_workers=workers, pin_memory=d.device.type == "cuda", persistent_workers=workers > 0)
    train_loader = DataLoader(train_ds, batch_size=per_rank, sampler=sampler, drop_last=False, **loader_kw)

    def eval_loader(samples: list[Sample]) -> DataLoader:
        ds = ShardDataset(samples, **common)
        idx = list(range(d.rank, len(ds), d.world_size))  # every sample once over the ranks, no padding
        return DataLoader(torch.utils.data.Subset(ds, idx), batch_size=per_rank, shuffle=False, num_workers=workers,
                          pin_memory=d.device.type == "cuda")

    val_loader = eval_loader(val_samples)

    torch.manual_seed(cfg.seed)
    if d.device.type == "cuda":
        torch.backends.cudnn.benchmark = True  # fixed input size: let cuDNN pick its fastest kernels
    model = build_model(cfg, num_ethnicities=len(ethnicity_classes) if cfg.multi_task else 5)
    init = init or cfg.pretrained
    if init:
        init_from(model, init, cfg.pretrained_strict, log)
    model.to(d.device)
    n_params = sum(p.numel() for p in model.parameters())
    log(f"model: {cfg.backbone}{' multi-task' if cfg.multi_task else ''}, width ×{cfg.width_scale}, depth ×"
        f"{cfg.depth_scale}, {n_params:,} parameters; {d.world_size} process(es) on {d.device.type}"
        f" ({'nccl' if d.device.type == 'cuda' else 'gloo'} where > 1), {per_rank} samples per rank and micro-batch, "
        f"{cfg.accumulation_steps} micro-batch(es) per step, global batch {cfg.batch_size}")
    if sync_bn and d.distributed:
        model = nn.SyncBatchNorm.convert_sync_batchnorm(model)
    ddp = DDP(model, device_ids=[d.local_rank] if d.device.type == "cuda" else None) if d.distributed else model
    optimizer = torch.optim.Adam(model.parameters(), lr=cfg.lr)

    preprocessor = preprocessor_json(cfg, margin=float(meta.get("margin", cfg.margin)), crop=meta.get("crop", cfg.crop),
                                     gender_classes=gender_classes, ethnicity_classes=ethnicity_classes)
    settings = cfg.to_settings()
    ckpt_path = outdir / "checkpoint.pt"
    start_epoch, history, best = 1, [], {"epoch": 0, "value": math.inf}
    if resume:
        if not ckpt_path.is_file():
            raise ValueError(f"Error in train: --resume needs {ckpt_path}, but it does not exist.")
        ck = torch.load(ckpt_path, map_location=d.device, weights_only=False)
        changed = [k for k in RESUME_KEYS if ck["settings"].get(k) != settings.get(k)]
        if changed:
            raise ValueError("Error in train: --resume must keep the run's settings, but these differ: " + ", ".join(
                f"{k} {json.dumps(ck['settings'].get(k))} → {json.dumps(settings.get(k))}" for k in changed) + ".")
        unwrap(model).load_state_dict(ck["model"])
        optimizer.load_state_dict(ck["optimizer"])
        start_epoch, history, best = ck["epoch"] + 1, ck["history"], ck["best"]
        log(f"resume: {ckpt_path} after epoch {ck['epoch']} (best epoch {best['epoch']})")

    steps_per_epoch = math.ceil(len(train_loader) / cfg.accumulation_steps)
    if max_steps is not None:
        steps_per_epoch = min(steps_per_epoch, max_steps)
    for epoch in range(start_epoch, cfg.epochs + 1):
        sampler.set_epoch(epoch)
        train_ds.set_epoch(epoch)
        ddp.train()
        t0 = time.time()
        seen, loss_sum, step = 0, 0.0, 0
        batches = iter(train_loader)
        while step < steps_per_epoch:
            # accumulationSteps micro-batches per step; the epoch's last step takes what is left
            pending = [b for _, b in zip(range(cfg.accumulation_steps), batches)]
            if not pending:
                break
            for g in optimizer.param_groups:
                g["lr"] = learning_rate_at(cfg, epoch, (step + 1) / steps_per_epoch)
            loss = train_step(ddp, optimizer, pending, cfg, d.device, amp=amp)
            if not math.isfinite(loss):
                raise FloatingPointError(f"Error in train: the loss must be finite, but got {loss} at epoch {epoch}, "
                                         f"step {step + 1}: lower lr or check the data.")
            seen += sum(p[0].shape[0] for p in pending) * d.world_size
            loss_sum += loss
            step += 1
        train_seconds = time.time() - t0
        val = evaluate(ddp, val_loader, cfg, d.device, amp=amp)
        value = best_value(val, cfg.best_by)
        entry = {"epoch": epoch, "lr": learning_rate_at(cfg, epoch, 1.0), "trainLoss": loss_sum / max(1, step),
                 "steps": step, "imagesPerSecond": seen / max(1e-9, train_seconds), "val": val}
        history.append(entry)
        improved = value < best["value"]
        if improved:
            best = {"epoch": epoch, "value": value, "metric": cfg.best_by}
        log(f"epoch {epoch}/{cfg.epochs}: loss {entry['trainLoss']:.4f}, {entry['imagesPerSecond']:.1f} img/s "
            f"({d.world_size} process(es)), val MAE {val['mae']:.3f} CA3 {val['ca3']:.1f} CA5 {val['ca5']:.1f} "
            f"CA7 {val['ca7']:.1f}{' (best)' if improved else ''}")
        if d.is_main:
            if improved:
                save_model(model, outdir / "model.safetensors", preprocessor)
            tmp = ckpt_path.with_name(ckpt_path.name + ".tmp")
            torch.save({"model": unwrap(model).state_dict(), "optimizer": optimizer.state_dict(), "epoch": epoch,
                        "history": history, "best": best, "settings": settings}, tmp)
            tmp.replace(ckpt_path)
        distributed.barrier()

    # The test split through the best model.
    report: dict[str, Any] = {"status": "completed", "settings": settings, "shards": str(pack.root),
                              "processes": d.world_size, "device": d.device.type, "history": history, "best": best,
                              "notes": cfg.notes}
    best_path = outdir / "model.safetensors"
    if test_samples and best_path.is_file():
        state, _ = read_safetensors(best_path)
        unwrap(model).load_state_dict({k: v.to(d.device) for k, v in state.items()})
        report["test"] = evaluate(ddp, eval_loader(test_samples), cfg, d.device, amp=amp)
        t = report["test"]
        log(f"test (best epoch {best['epoch']}): MAE {t['mae']:.3f}, CA3 {t['ca3']:.1f}, CA5 {t['ca5']:.1f}, "
            f"CA7 {t['ca7']:.1f} on {t['count']} samples")
    report["wallSeconds"] = time.time() - t_start
    if d.is_main:
        _atomic_json(outdir / "report.json", report)
        log(f"wrote {best_path} (best epoch {best['epoch']}) and {outdir / 'report.json'}; back to @ldl: "
            f"ldl import {best_path} …")
        return report
    return None


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m ldl_torch.train", description=__doc__.split("\n\n")[0])
    ap.add_argument("--config", required=True, help="@ldl's config.json (RUN_DIR/config.json of ldl train)")
    ap.add_argument("--shards", required=True, help="folder written by 'ldl prep pack' (with shards.json)")
    ap.add_argument("--out", required=True, help="output folder (model.safetensors, checkpoint.pt, report.json)")
    ap.add_argument("--init-from", help="safetensors state dict to start from (ldl export --format safetensors)")
    ap.add_argument("--resume", action="store_true", help="continue from OUT/checkpoint.pt")
    ap.add_argument("--workers", type=int, default=min(8, max(0, (os.cpu_count() or 1) // max(1, int(os.environ.get('LOCAL_WORLD_SIZE', '1'))) - 1)),
                    help="DataLoader worker processes per rank (default: the CPUs per rank, less one, at most 8)")
    ap.add_argument("--device", default="auto", choices=["auto", "cuda", "cpu"], help="default: cuda where available")
    ap.add_argument("--amp", action="store_true", help="bfloat16 autocast (GPUs)")
    ap.add_argument("--sync-bn", action="store_true", help="SyncBatchNorm across ranks (GPUs)")
    ap.add_argument("--no-verify", action="store_true", help="skip the sha256 check of the shard files")
    ap.add_argument("--max-steps", type=int, help="at most this many optimizer steps per epoch (smoke tests)")
    a = ap.parse_args(argv)
    try:
        cfg = read_config(a.config)
        run(cfg, a.shards, a.out, init=a.init_from, resume=a.resume, workers=a.workers, device=a.device, amp=a.amp,
            sync_bn=a.sync_bn, verify=not a.no_verify, max_steps=a.max_steps)
    except (ValueError, FloatingPointError) as e:
        print(str(e), file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
