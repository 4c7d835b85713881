"""PyTorch reference for `pnpm bench:train --reference` (packages/kernels/bench/train.ts).

Trains timm's model of the same name (random init, 101 classes) on random images with the same
loss as @ldl/core `ldlLoss` (DLDL-v2: KL(Gaussian(age, sigma=2) || softmax) batch-mean + 1 * |E[p] - age|)
and Adam, and prints one line:

    RESULT bench=train backend=torch model=<m> size=<s> batch=<n> img_per_s=<x> device=<cpu|cuda> threads=<t> img_per_cpu_s=<y>

(img_per_cpu_s: images per second of the process's CPU time over all threads, for a loaded machine.)

Usage: bench_train.py --model seresnext50_32x4d --size 112 --batch 8 [--steps 5 --warmup 2 --threads 2 --device cpu]
"""
import argparse
import time

import timm
import torch


def ldl_loss(logits: torch.Tensor, ages: torch.Tensor, sigma: float = 2.0, lam: float = 1.0) -> torch.Tensor:
    k = torch.arange(logits.shape[1], device=logits.device, dtype=logits.dtype)
    target = torch.exp(-((k[None, :] - ages[:, None]) ** 2) / (2 * sigma**2)).clamp_min(1e-15)
    log_p = torch.log_softmax(logits, dim=1)
    kl = (target * (torch.log(target) - log_p)).sum() / logits.shape[0]
    expected = (log_p.exp() * k[None, :]).sum(dim=1)
    return kl + lam * (expected - ages).abs().mean()


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", required=True)
    ap.add_argument("--size", type=int, required=True)
    ap.add_argument("--batch", type=int, required=True)
    ap.add_argument("--steps", type=int, default=5)
    ap.add_argument("--warmup", type=int, default=2)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--device", default="cpu")
    args = ap.parse_args()

    torch.manual_seed(0)
    if args.device == "cpu":
        torch.set_num_threads(args.threads)
    device = torch.device(args.device)
    model = timm.create_model(args.model, pretrained=False, num_classes=101).to(device).train()
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    x = torch.randn(args.batch, 3, args.size, args.size, device=device)
    ages = torch.randint(0, 101, (args.batch,), device=device).float()

    def step() -> None:
        opt.zero_grad(set_to_none=True)
        loss = ldl_loss(model(x), ages)
        loss.backward()
        opt.step()
        loss.item()  # waits for the device, like the tfjs side's loss.data()

    for _ in range(args.warmup):
        step()
    t0 = time.perf_counter()
    c0 = time.process_time()
    for _ in range(args.steps):
        step()
    dt = time.perf_counter() - t0
    cpu = time.process_time() - c0
    threads = torch.get_num_threads() if args.device == "cpu" else 0
    print(
        f"RESULT bench=train backend=torch model={args.model} size={args.size} batch={args.batch} "
        f"img_per_s={args.batch * args.steps / dt:.3f} device={args.device} threads={threads} "
        f"img_per_cpu_s={args.batch * args.steps / cpu:.3f}",
        flush=True,
    )


if __name__ == "__main__":
    main()
