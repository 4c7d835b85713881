"""A tiny run on synthetic shards (written here in @ldl's shard format v1): 2 processes (gloo), as torchrun starts
them (RANK / LOCAL_RANK / WORLD_SIZE / MASTER_ADDR / MASTER_PORT), then --resume; and the shard checks."""
import json
import os
import tarfile

import pytest
import torch.multiprocessing as mp

from conftest import free_port
from ldl_torch.config import TrainConfig, replace
from ldl_torch.models import load_model
from ldl_torch.shards import open_shards
from ldl_torch.synthetic import random_samples, write_shards
from ldl_torch.train import run

RACES = ["White", "Black", "Asian", "Indian", "Others"]
CFG = TrainConfig(backbone="resnet18", width_scale=0.25, depth_scale=0.5, image_size=32, epochs=1, batch_size=8,
                  val_fraction=0.0, seed=1)


@pytest.fixture(scope="module")
def shards(tmp_path_factory):
    root = tmp_path_factory.mktemp("pack")
    write_shards(root, {"train": random_samples(32, 32, 0, "train", RACES), "test": random_samples(8, 32, 1, "test", RACES)},
                 image_size=32, per_file=12, margin=0.4, crop="stretch", classes={"gender": ["male", "female"], "ethnicity": RACES})
    return root


def _rank(rank, world, port, cfg, shards, out, resume, init=None, max_steps=None):
    import torch
    torch.set_num_threads(1)
    os.environ.update(RANK=str(rank), LOCAL_RANK=str(rank), WORLD_SIZE=str(world), LOCAL_WORLD_SIZE=str(world),
                      MASTER_ADDR="127.0.0.1", MASTER_PORT=str(port))
    run(cfg, shards, out, workers=0, device="cpu", resume=resume, init=init, max_steps=max_steps)


def torchrun_like(cfg, shards, out, resume=False, world=2, init=None, max_steps=None):
    # fork: the children inherit the imported torch and timm
    mp.start_processes(_rank, args=(world, free_port(), cfg, str(shards), str(out), resume, init, max_steps),
                       nprocs=world, join=True, start_method="fork")


@pytest.mark.parametrize("multi_task", [False, True], ids=["age", "multitask"])
def test_two_process_run_writes_an_importable_model(shards, tmp_path, multi_task):
    cfg = replace(CFG, multi_task=multi_task)
    torchrun_like(cfg, shards, tmp_path)
    report = json.loads((tmp_path / "report.json").read_text())
    assert report["processes"] == 2 and report["status"] == "completed"
    (epoch,) = report["history"]
    assert epoch["steps"] == 4  # 32 samples / (2 ranks × 4)
    assert report["test"]["count"] == 8 and epoch["val"]["count"] == 8  # every test sample once over the ranks
    model, pre = load_model(tmp_path / "model.safetensors")
    assert pre["inputSize"] == 32 and pre["margin"] == 0.4 and pre["crop"] == "stretch" and pre["sigma"] == 2.0
    assert pre["heads"] == (["age", "gender", "ethnicity"] if multi_task else ["age"])
    assert pre["ethnicityClasses"] == (RACES if multi_task else None)
    if multi_task:
        assert "genderAcc" in report["test"]
    log = (tmp_path / "train.log").read_text()
    assert "2 process(es)" in log and "epoch 1/1" in log


def test_resume_continues_from_the_checkpoint(shards, tmp_path):
    torchrun_like(CFG, shards, tmp_path)
    torchrun_like(replace(CFG, epochs=2), shards, tmp_path, resume=True)
    report = json.loads((tmp_path / "report.json").read_text())
    assert [h["epoch"] for h in report["history"]] == [1, 2]
    assert "resume:" in (tmp_path / "train.log").read_text()
    with pytest.raises(Exception, match="must not hold a run"):  # a new run never overwrites one
        torchrun_like(CFG, shards, tmp_path)
    with pytest.raises(Exception, match=r"--resume must keep the run's settings, but these differ: lr 0.001 → 0.1"):
        torchrun_like(replace(CFG, epochs=3, lr=0.1), shards, tmp_path, resume=True, world=1)


def test_init_from_an_exported_file(shards, tmp_path):
    import torch
    from ldl_torch.models import build_model, preprocessor_json, read_safetensors, save_model
    torch.manual_seed(123)  # other weights than the run's own seeded init
    src = build_model(CFG)
    save_model(src, tmp_path / "exported.safetensors", preprocessor_json(CFG, margin=0, crop="stretch"))
    torchrun_like(CFG, shards, tmp_path / "out", init=str(tmp_path / "exported.safetensors"), max_steps=0)
    got, _ = read_safetensors(tmp_path / "out" / "model.safetensors")
    assert all(torch.equal(v, got[k]) for k, v in src.state_dict().items())  # no step taken: the init itself
    assert "init: " in (tmp_path / "out" / "train.log").read_text()
    wrong = build_model(replace(CFG, width_scale=0.5))
    save_model(wrong, tmp_path / "wrong.safetensors", preprocessor_json(CFG, margin=0, crop="stretch"))
    with pytest.raises(Exception, match=r"must match the model \(strict\).*other shapes: conv1.weight \[32, 3, 7, 7\]"):
        torchrun_like(CFG, shards, tmp_path / "out2", init=str(tmp_path / "wrong.safetensors"), world=1)


def test_shards_are_verified(shards, tmp_path):
    pack = open_shards(shards)
    assert (len(pack.splits["train"]), len(pack.splits["test"])) == (32, 8)
    bad = tmp_path / "bad"
    bad.mkdir()
    for f in shards.iterdir():
        (bad / f.name).write_bytes(f.read_bytes())
    with open(bad / "train-00001.tar", "r+b") as f:
        f.seek(700)
        f.write(b"\x00\x01")
    with pytest.raises(ValueError, match="train-00001.tar must have the sha256"):
        open_shards(bad)
    meta = json.loads((bad / "shards.json").read_text())
    (bad / "train-00001.tar").write_bytes((shards / "train-00001.tar").read_bytes())
    meta["splits"]["train"][1]["samples"] = 13
    meta["counts"]["train"] = 33
    (bad / "shards.json").write_text(json.dumps(meta))
    with pytest.raises(ValueError, match="train-00001.tar must hold 13 samples"):
        open_shards(bad)
    with tarfile.open(shards / "train-00000.tar") as t:
        names = t.getnames()
    assert all(n.endswith((".png", ".json")) for n in names) and len(names) == 24


def test_the_pack_reads_in_webdataset(shards):
    """The format's promise: webdataset reads the tar files unchanged (the same samples, image and labels)."""
    wds = pytest.importorskip("webdataset")
    pack = open_shards(shards)
    files = [str(shards / f["file"]) for f in pack.meta["splits"]["train"]]
    got = [(json.loads(s["json"])["photo"], len(s["png"])) for s in wds.WebDataset(files, shardshuffle=False)]
    assert got == [(s.photo, s.size) for s in pack.splits["train"]]
