"""One DDP step on 2 processes (gloo) equals one single-process step on the same 8 samples.

DDP averages the gradients of the ranks' batch-mean losses; with equal per-rank batches that is the gradient of
the global batch mean. BatchNorm is put in eval mode on both sides: its batch statistics are per rank in DDP
(without SyncBatchNorm), which is not what this test is about.
"""
import os
import sys

import torch
import torch.distributed as dist
import torch.multiprocessing as mp

from conftest import free_port
from ldl_torch.config import TrainConfig
from ldl_torch.models import build_model, unwrap
from ldl_torch.train import train_step

CFG = TrainConfig(backbone="resnet18", width_scale=0.25, depth_scale=0.5, image_size=32, lr=1e-3)
N = 8


def batch():
    g = torch.Generator().manual_seed(3)
    x = torch.randn(N, 3, CFG.image_size, CFG.image_size, generator=g)
    ages = torch.rand(N, generator=g) * 100
    return x, {"age": ages}


def fresh_model():
    torch.manual_seed(0)
    m = build_model(CFG)
    for mod in m.modules():
        if isinstance(mod, torch.nn.BatchNorm2d):
            mod.eval()
    return m


def step(model, x, target):
    opt = torch.optim.Adam(model.parameters(), lr=CFG.lr)
    loss = train_step(model, opt, [(x, target)], CFG, torch.device("cpu"))
    grads = {n: p.grad.detach().clone() for n, p in unwrap(model).named_parameters()}
    return loss, grads


def worker(rank, world, port, out):
    torch.set_num_threads(1)
    os.environ.update(MASTER_ADDR="127.0.0.1", MASTER_PORT=str(port))
    dist.init_process_group("gloo", rank=rank, world_size=world)
    model = fresh_model()
    ddp = torch.nn.parallel.DistributedDataParallel(model)
    x, t = batch()
    per = N // world
    sl = slice(rank * per, (rank + 1) * per)
    loss, grads = step(ddp, x[sl], {k: v[sl] for k, v in t.items()})
    if rank == 0:
        torch.save({"params": {n: p.detach() for n, p in model.named_parameters()}, "grads": grads}, out)
    dist.destroy_process_group()


def test_ddp_step_equals_single_process_step(tmp_path):
    out = tmp_path / "ddp.pt"
    # fork: the children inherit the imported torch and timm (a fresh interpreter spends ~10 s importing them)
    mp.start_processes(worker, args=(2, free_port(), str(out)), nprocs=2, join=True, start_method="fork")
    ddp = torch.load(out)
    model = fresh_model()
    x, t = batch()
    _, grads = step(model, x, t)
    params = dict(model.named_parameters())
    dparam = max((ddp["params"][n] - params[n]).abs().max().item() for n in params)
    dgrad = max((ddp["grads"][n] - grads[n]).abs().max().item() for n in grads)
    gscale = max(g.abs().max().item() for g in grads.values())
    print(f"\nRESULT ddp_vs_single max|Δparam| {dparam:.3e}  max|Δgrad| {dgrad:.3e} (largest |grad| {gscale:.3e}), "
          f"{len(params)} tensors, Adam lr {CFG.lr}", file=sys.stderr)
    assert dgrad <= 1e-5 * max(1.0, gscale)
    assert dparam <= 1e-6


def test_accumulated_micro_batches_equal_the_whole_batch():
    x, t = batch()
    whole = fresh_model()
    _, g1 = step(whole, x, t)
    acc = fresh_model()
    opt = torch.optim.Adam(acc.parameters(), lr=CFG.lr)
    train_step(acc, opt, [(x[:4], {"age": t["age"][:4]}), (x[4:], {"age": t["age"][4:]})], CFG, torch.device("cpu"))
    params = dict(whole.named_parameters())
    assert max((p - params[n]).abs().max().item() for n, p in acc.named_parameters()) <= 1e-6
    assert max((p.grad - g1[n]).abs().max().item() for n, p in acc.named_parameters()) <= 1e-6
