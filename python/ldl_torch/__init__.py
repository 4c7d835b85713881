"""ldl_torch: train @ldl's age models (Liu 2020, DLDL-v2) on PyTorch DDP / torchrun, from ``ldl prep pack``'s
shards, and hand the weights back to @ldl (``ldl import``). See python/README.md."""
from .config import TrainConfig, read_config
from .losses import expected_age, gaussian_labels, ldl_loss, multi_task_loss
from .metrics import AgeMetrics
from .models import build_model, load_model, save_model
from .shards import ShardDataset, open_shards

__all__ = [
    "TrainConfig", "read_config", "expected_age", "gaussian_labels", "ldl_loss", "multi_task_loss", "AgeMetrics",
    "build_model", "load_model", "save_model", "ShardDataset", "open_shards",
]
__version__ = "0.1.0"
