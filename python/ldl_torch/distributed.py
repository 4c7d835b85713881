"""torchrun / DDP set-up: one process per GPU (NCCL) or per CPU slot (gloo); rank 0 writes."""
from __future__ import annotations

import os
from dataclasses import dataclass

import torch
import torch.distributed as dist


@dataclass(frozen=True)
class DistInfo:
    rank: int
    local_rank: int
    world_size: int
    device: torch.device

    @property
    def is_main(self) -> bool:
        return self.rank == 0

    @property
    def distributed(self) -> bool:
        return self.world_size > 1


def setup(device: str = "auto") -> DistInfo:
    """Reads torchrun's ``RANK``/``LOCAL_RANK``/``WORLD_SIZE`` and joins the process group (``env://``): NCCL on
    CUDA, gloo on CPU. Without torchrun (no ``WORLD_SIZE``) it is one process and no group.

    :param device: ``auto`` (CUDA where available), ``cuda`` or ``cpu``.
    """
    world = int(os.environ.get("WORLD_SIZE", "1"))
    rank = int(os.environ.get("RANK", "0"))
    local = int(os.environ.get("LOCAL_RANK", "0"))
    if device not in ("auto", "cuda", "cpu"):
        raise ValueError(f"Error in setup: --device must be auto, cuda or cpu, but got {device!r}.")
    use_cuda = torch.cuda.is_available() if device == "auto" else device == "cuda"
    if use_cuda and not torch.cuda.is_available():
        raise ValueError("Error in setup: --device cuda needs a CUDA GPU, but torch.cuda.is_available() is False.")
    if use_cuda:
        torch.cuda.set_device(local)
        dev = torch.device("cuda", local)
    else:
        dev = torch.device("cpu")
    if world > 1 and not dist.is_initialized():
        dist.init_process_group(backend="nccl" if use_cuda else "gloo")
    return DistInfo(rank, local, world, dev)


def any_rank(flag: bool) -> bool:
    """True on every rank when ``flag`` is true on any (so that all ranks stop together, none left waiting)."""
    if not (dist.is_available() and dist.is_initialized()):
        return flag
    t = torch.tensor([1.0 if flag else 0.0])
    if dist.get_backend() == "nccl":
        t = t.cuda()
    dist.all_reduce(t)
    return t.item() > 0


def barrier() -> None:
    if dist.is_available() and dist.is_initialized():
        dist.barrier()


def teardown() -> None:
    if dist.is_available() and dist.is_initialized():
        dist.destroy_process_group()
