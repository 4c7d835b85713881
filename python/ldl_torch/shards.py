"""Reader of @ldl's shard format v1 (``ldl prep pack``): WebDataset-style tar files plus ``shards.json``.

Each sample is two adjacent tar members with one key: ``<key>.png`` (or ``.jpg``), the aligned crop, and
``<key>.json``, ``{"photo", "age", "gender", "ethnicity"}``. ``shards.json`` lists each split's files with their
sample counts and sha256. :func:`open_shards` checks both (naming the file) and indexes every sample's byte range
once, so :class:`ShardDataset` is map-style: ``torch.utils.data.DistributedSampler`` splits it across ranks,
and a sample is one ``seek`` + ``read`` in its tar (no unpacking).
"""
from __future__ import annotations

import hashlib
import io
import json
import math
import tarfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from PIL import Image

from .augment import AugmentConfig, apply_augment, sample_augment_params
from .distributed import any_rank

SHARDS_JSON = "shards.json"
IMAGE_EXTENSIONS = (".png", ".jpg", ".jpeg")


@dataclass(frozen=True)
class Sample:
    """One indexed sample: where its image bytes lie, and its labels."""

    tar: str
    offset: int
    size: int
    photo: str
    age: float
    gender: str | None
    ethnicity: str | None


@dataclass
class ShardSet:
    """A pack's ``shards.json`` and the indexed samples of each split."""

    root: Path
    meta: dict[str, Any]
    splits: dict[str, list[Sample]]

    @property
    def image_size(self) -> int:
        return int(self.meta["imageSize"])

    @property
    def gender_classes(self) -> list[str] | None:
        return (self.meta.get("classes") or {}).get("gender")

    @property
    def ethnicity_classes(self) -> list[str] | None:
        return (self.meta.get("classes") or {}).get("ethnicity")


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def _fail(where: str, what: str, expected: str, got: Any) -> None:
    raise ValueError(f"Error in open_shards: {where}: {what} must be {expected}, but got {json.dumps(got)}.")


def read_shards_json(root: str | Path) -> dict[str, Any]:
    """Reads and checks ``ROOT/shards.json`` (format ``ldl-shards``, version 1)."""
    root = Path(root)
    file = root / SHARDS_JSON
    if not file.is_file():
        raise ValueError(f"Error in open_shards: --shards {root} must be a folder written by 'ldl prep pack' "
                         f"(with {SHARDS_JSON}), but {file} does not exist.")
    try:
        meta = json.loads(file.read_text(encoding="utf-8"))
    except json.JSONDecodeError as e:
        raise ValueError(f"Error in open_shards: {file} must be JSON, but it does not parse: {e}.") from e
    w = str(file)
    if not isinstance(meta, dict):
        _fail(w, "the file", "a JSON object", meta)
    if meta.get("format") != "ldl-shards":
        _fail(w, "format", "'ldl-shards'", meta.get("format"))
    if meta.get("version") != 1:
        _fail(w, "version", "1 (the version this reader knows)", meta.get("version"))
    if not isinstance(meta.get("imageSize"), int) or meta["imageSize"] < 1:
        _fail(w, "imageSize", "a positive integer", meta.get("imageSize"))
    splits = meta.get("splits")
    if not isinstance(splits, dict) or "train" not in splits:
        _fail(w, "splits", "an object with a train list", splits)
    for name, files in splits.items():
        if not isinstance(files, list):
            _fail(w, f"splits.{name}", "a list of {file, samples, sha256}", files)
        for i, f in enumerate(files):
            if not (isinstance(f, dict) and isinstance(f.get("file"), str) and isinstance(f.get("samples"), int)
                    and isinstance(f.get("sha256"), str)):
                _fail(w, f"splits.{name}[{i}]", "{file: string, samples: integer, sha256: string}", f)
        counts = meta.get("counts") or {}
        total = sum(f["samples"] for f in files)
        if name in counts and counts[name] != total:
            _fail(w, f"counts.{name}", f"the sum of splits.{name}[].samples ({total})", counts[name])
    return meta


def index_tar(path: Path) -> list[Sample]:
    """Indexes one tar: pairs ``<key>.json`` with ``<key>.<image>``; every key must have both."""
    images: dict[str, tarfile.TarInfo] = {}
    labels: dict[str, dict[str, Any]] = {}
    order: list[str] = []
    with tarfile.open(path, "r:") as tar:
        for m in tar:
            if not m.isfile():
                continue
            key, dot, ext = m.name.rpartition(".")
            if not dot:
                raise ValueError(f"Error in open_shards: {path}: member {m.name!r} must be <key>.<ext>, but has no extension.")
            ext = "." + ext.lower()
            if key not in images and key not in labels:
                order.append(key)
            if ext == ".json":
                f = tar.extractfile(m)
                assert f is not None
                try:
                    labels[key] = json.loads(f.read().decode("utf-8"))
                except (UnicodeDecodeError, json.JSONDecodeError) as e:
                    raise ValueError(f"Error in open_shards: {path}: {m.name} must be UTF-8 JSON, but: {e}.") from e
            elif ext in IMAGE_EXTENSIONS:
                images[key] = m
            else:
                raise ValueError(f"Error in open_shards: {path}: member {m.name!r} must end in .json, .png or .jpg.")
    out = []
    for key in order:
        if key not in images or key not in labels:
            raise ValueError(f"Error in open_shards: {path}: sample {key!r} must have an image and a .json, but has "
                             f"only its {'image' if key in images else '.json'}.")
        lab, m = labels[key], images[key]
        age = lab.get("age")
        if not isinstance(age, (int, float)) or isinstance(age, bool) or not math.isfinite(age):
            raise ValueError(f"Error in open_shards: {path}: {key}.json age must be a number, but got {json.dumps(age)}.")
        out.append(Sample(str(path), m.offset_data, m.size, str(lab.get("photo", key)), float(age),
                          lab.get("gender"), lab.get("ethnicity")))
    return out


def open_shards(root: str | Path, splits: tuple[str, ...] = ("train", "test"), *, verify: bool = True,
                rank: int = 0, world_size: int = 1) -> ShardSet:
    """Opens a pack: checks ``shards.json``, each file's sha256 (``verify``) and sample count, indexes the samples.

    With several ranks each checks the sha256 of its share of the files (file ``i`` on rank ``i % world_size``) and
    the outcome is shared (``all_reduce``), so a bad file stops every rank.

    :raises ValueError: naming the file whose sha256 or count differs, or the bad member.
    """
    root = Path(root)
    meta = read_shards_json(root)
    error = ""
    files = [(s, f) for s in splits for f in meta["splits"].get(s, [])]
    for i, (split, f) in enumerate(files):
        if i % world_size != rank:
            continue
        path = root / f["file"]
        if not path.is_file():
            error = error or f"Error in open_shards: {path} (splits.{split} of {root / SHARDS_JSON}) must exist, but it does not."
        elif verify and sha256_file(path) != f["sha256"].lower():
            error = error or (f"Error in open_shards: {path} must have the sha256 {f['sha256']} that {root / SHARDS_JSON} "
                              f"lists, but its content differs (a changed or truncated file): refusing it.")
    if any_rank(bool(error)) and not error:
        error = "Error in open_shards: another rank found a missing or changed shard file (see its message)."
    if error:
        raise ValueError(error)
    out: dict[str, list[Sample]] = {}
    for split in splits:
        samples: list[Sample] = []
        for f in meta["splits"].get(split, []):
            path = root / f["file"]
            got = index_tar(path)
            if len(got) != f["samples"]:
                raise ValueError(f"Error in open_shards: {path} must hold {f['samples']} samples as {root / SHARDS_JSON} "
                                 f"says, but it holds {len(got)}.")
            samples.extend(got)
        out[split] = samples
    return ShardSet(root, meta, out)


def class_index(value: str | None, classes: list[str] | None, what: str, sample: Sample) -> int:
    """Index of a gender/ethnicity label in its classes; -1 when the sample has none."""
    if value is None or classes is None:
        return -1
    try:
        return classes.index(value)
    except ValueError:
        raise ValueError(f"Error in ShardDataset: {sample.tar}: {sample.photo} {what} must be one of "
                         f"{', '.join(classes)}, but got {json.dumps(value)}.") from None


class ShardDataset(torch.utils.data.Dataset):
    """Map-style dataset over indexed shard samples: ``(image [3, S, S] float32, target dict)``.

    :param samples: from :func:`open_shards`.
    :param image_size: the pack's image side; images of another size are an error (``ldl prep pack`` resizes).
    :param mean, std: per-channel normalisation on the 0..1 scale (RGB).
    :param augment: apply the paper's augmentation, seeded by ``(seed, epoch, index)`` (call :meth:`set_epoch`).
    """

    def __init__(self, samples: list[Sample], image_size: int, mean: tuple[float, float, float],
                 std: tuple[float, float, float], *, augment: bool = False, seed: int = 0,
                 gender_classes: list[str] | None = None, ethnicity_classes: list[str] | None = None,
                 augment_config: AugmentConfig = AugmentConfig()) -> None:
        self.samples = samples
        self.image_size = image_size
        self.mean = np.asarray(mean, dtype=np.float32)
        self.std = np.asarray(std, dtype=np.float32)
        self.augment = augment
        self.seed = seed
        self.epoch = 0
        self.gender_classes = gender_classes
        self.ethnicity_classes = ethnicity_classes
        self.augment_config = augment_config
        self._files: dict[str, Any] = {}

    def set_epoch(self, epoch: int) -> None:
        self.epoch = epoch

    def __len__(self) -> int:
        return len(self.samples)

    def read_image(self, i: int) -> np.ndarray:
        """The decoded uint8 ``[S, S, 3]`` RGB image of sample ``i``."""
        s = self.samples[i]
        f = self._files.get(s.tar)
        if f is None:
            f = self._files[s.tar] = open(s.tar, "rb")  # one handle per file and worker process
        f.seek(s.offset)
        data = f.read(s.size)
        with Image.open(io.BytesIO(data)) as im:
            img = np.asarray(im.convert("RGB"))
        if img.shape[0] != self.image_size or img.shape[1] != self.image_size:
            raise ValueError(f"Error in ShardDataset: {s.tar}: {s.photo} must be {self.image_size}×{self.image_size} px "
                             f"(the pack's imageSize), but it is {img.shape[1]}×{img.shape[0]}.")
        return img

    def __getitem__(self, i: int):
        s = self.samples[i]
        img = self.read_image(i)
        if self.augment:
            rng = np.random.default_rng([self.seed, self.epoch, i])
            img = apply_augment(img, sample_augment_params(rng, self.augment_config))
        x = (img.astype(np.float32) / 255.0 - self.mean) / self.std
        x = torch.from_numpy(np.ascontiguousarray(x.transpose(2, 0, 1)))
        target = {
            "age": torch.tensor(s.age, dtype=torch.float32),
            "gender": torch.tensor(class_index(s.gender, self.gender_classes, "gender", s)),
            "ethnicity": torch.tensor(class_index(s.ethnicity, self.ethnicity_classes, "ethnicity", s)),
            "index": torch.tensor(i),
        }
        return x, target

    def __getstate__(self):
        state = dict(self.__dict__)
        state["_files"] = {}
        return state
