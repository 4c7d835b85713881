"""Writes packs in @ldl's shard format v1 (``ldl prep pack``'s output), for tests and smoke runs.

``python -m ldl_torch.synthetic OUT [--train 32] [--test 8] [--size 32]`` writes a tiny pack of random images:
figures trained on it say nothing about age estimation, only that the pipeline runs.
"""
from __future__ import annotations

import argparse
import hashlib
import io
import json
import tarfile
from pathlib import Path
from typing import Any, Iterable

import numpy as np
from PIL import Image

from .shards import SHARDS_JSON, sha256_file


def _add(tar: tarfile.TarFile, name: str, data: bytes) -> None:
    info = tarfile.TarInfo(name)
    info.size = len(data)
    info.mtime = 0
    tar.addfile(info, io.BytesIO(data))


def write_shards(root: str | Path, splits: dict[str, list[tuple[np.ndarray, dict[str, Any]]]], *, image_size: int,
                 per_file: int = 1000, margin: float = 0.0, crop: str = "stretch",
                 classes: dict[str, list[str] | None] | None = None) -> dict[str, Any]:
    """Writes ``splits`` (``{split: [(uint8 [S, S, 3] image, {"photo", "age", "gender", "ethnicity"}), …]}``) as
    ``<split>-00000.tar``… of at most ``per_file`` samples and ``shards.json``; returns the shards.json object."""
    root = Path(root)
    root.mkdir(parents=True, exist_ok=True)
    listing: dict[str, list[dict[str, Any]]] = {}
    for split, samples in splits.items():
        files = []
        for f, start in enumerate(range(0, len(samples), per_file)):
            name = f"{split}-{f:05d}.tar"
            chunk = samples[start:start + per_file]
            with tarfile.open(root / name, "w", format=tarfile.PAX_FORMAT) as tar:
                for image, label in chunk:
                    stem = label["photo"].rsplit(".", 1)[0].replace("/", "_").replace(".", "_")
                    key = f"{stem}_{hashlib.sha1(label['photo'].encode()).hexdigest()[:6]}"
                    buf = io.BytesIO()
                    Image.fromarray(image, "RGB").save(buf, format="PNG")
                    _add(tar, f"{key}.png", buf.getvalue())
                    _add(tar, f"{key}.json", json.dumps(label).encode("utf-8"))
            files.append({"file": name, "samples": len(chunk), "sha256": sha256_file(root / name)})
        listing[split] = files
    meta = {"format": "ldl-shards", "version": 1, "imageSize": image_size, "margin": margin, "crop": crop,
            "imageFormat": "png", "classes": classes or {"gender": None, "ethnicity": None}, "splits": listing,
            "counts": {s: sum(f["samples"] for f in fs) for s, fs in listing.items()}}
    (root / SHARDS_JSON).write_text(json.dumps(meta, indent=2) + "\n", encoding="utf-8")
    return meta


def random_samples(n: int, size: int, seed: int, prefix: str,
                   ethnicities: Iterable[str] | None = None) -> list[tuple[np.ndarray, dict[str, Any]]]:
    """``n`` random images with ages in 1..80, a gender and (if given) an ethnicity each."""
    rng = np.random.default_rng(seed)
    eth = list(ethnicities) if ethnicities else None
    out = []
    for i in range(n):
        img = rng.integers(0, 256, size=(size, size, 3), dtype=np.uint8)
        label = {"photo": f"{prefix}/{i:05d}.jpg", "age": float(rng.integers(1, 81)),
                 "gender": ["male", "female"][i % 2], "ethnicity": eth[i % len(eth)] if eth else None}
        out.append((img, label))
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m ldl_torch.synthetic", description=__doc__.split("\n\n")[0])
    ap.add_argument("out")
    ap.add_argument("--train", type=int, default=32)
    ap.add_argument("--test", type=int, default=8)
    ap.add_argument("--size", type=int, default=32)
    ap.add_argument("--per-file", type=int, default=16)
    a = ap.parse_args(argv)
    races = ["White", "Black", "Asian", "Indian", "Others"]
    meta = write_shards(a.out, {"train": random_samples(a.train, a.size, 0, "train", races),
                                "test": random_samples(a.test, a.size, 1, "test", races)},
                        image_size=a.size, per_file=a.per_file, classes={"gender": ["male", "female"], "ethnicity": races})
    print(f"wrote {a.out}/{SHARDS_JSON}: {meta['counts']} samples of {a.size} px (SYNTHETIC random images)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
