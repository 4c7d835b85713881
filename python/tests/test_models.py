"""Models equal @ldl's, and save_model / load_model / finetune_exported round-trip with @ldl's metadata."""
import json

import pytest
import torch
from safetensors import safe_open
from safetensors.torch import save_file

from ldl_torch.config import TrainConfig
from ldl_torch.models import build_model, load_model, model_outputs, preprocessor_json, read_safetensors, save_model
from ldl_torch.roundtrip import finetune_exported

SMALL = TrainConfig(backbone="resnet50", width_scale=0.25, depth_scale=0.34, image_size=64)


def test_small_preset_model_has_ldls_parameter_count():
    # `pnpm ldl train --preset small` logs: "model: resnet50, width ×0.25, depth ×0.34, 634,197 parameters, 628,597 trainable"
    m = build_model(SMALL)
    trainable = sum(p.numel() for p in m.parameters())
    stats = sum(b.numel() for n, b in m.named_buffers() if not n.endswith("num_batches_tracked"))
    assert (trainable, trainable + stats) == (628_597, 634_197)
    assert [len(getattr(m, f"layer{i}")) for i in range(1, 5)] == [1, 1, 2, 1]
    assert m.conv1.weight.shape == (16, 3, 7, 7) and m.layer1[0].downsample[0].weight.shape == (64, 16, 1, 1)


@pytest.mark.parametrize("cfg", [
    SMALL,
    TrainConfig(backbone="resnet18", width_scale=0.25, depth_scale=0.5, image_size=32),
    TrainConfig(backbone="seresnext50_32x4d", width_scale=0.25, depth_scale=0.34, image_size=32),
    TrainConfig(backbone="resnet50", width_scale=0.25, depth_scale=0.34, image_size=64, multi_task=True),
], ids=["small", "resnet18", "seresnext", "multitask"])
def test_save_load_round_trip(tmp_path, cfg):
    torch.manual_seed(0)
    model = build_model(cfg).eval()
    classes = ["White", "Black", "Asian", "Indian", "Others"]
    pre = preprocessor_json(cfg, margin=0.4, crop="stretch", ethnicity_classes=classes)
    save_model(model, tmp_path / "m.safetensors", pre)
    with safe_open(str(tmp_path / "m.safetensors"), framework="pt") as f:
        meta = f.metadata()
    # every case here has a reduced width or depth: timm names no such model, so (as ldl export) no timm_model
    assert set(meta) == {"preprocessor.json", "format"} and meta["format"] == "pt"
    assert json.loads(meta["preprocessor.json"]) == pre
    loaded, pre2 = load_model(tmp_path / "m.safetensors")
    assert pre2 == pre
    x = torch.randn(2, 3, cfg.image_size, cfg.image_size)
    with torch.no_grad():
        a, b = model_outputs(model, x), model_outputs(loaded, x)
    for k in a:
        assert torch.equal(a[k], b[k]), k


def test_load_refuses_weights_that_do_not_fit(tmp_path):
    model = build_model(SMALL)
    state = {k: v.contiguous() for k, v in model.state_dict().items()}
    pre = preprocessor_json(SMALL, margin=0, crop="stretch")
    meta = {"preprocessor.json": json.dumps(pre), "format": "pt", "timm_model": "resnet50"}
    # no num_batches_tracked (an exporter may leave them out): loads
    save_file({k: v for k, v in state.items() if "num_batches" not in k}, str(tmp_path / "a.safetensors"), metadata=meta)
    load_model(tmp_path / "a.safetensors")
    # a missing weight: refused, named
    save_file({k: v for k, v in state.items() if k != "layer2.0.bn1.weight"}, str(tmp_path / "b.safetensors"), metadata=meta)
    with pytest.raises(ValueError, match="missing: layer2.0.bn1.weight"):
        load_model(tmp_path / "b.safetensors")
    # no metadata: refused
    save_file(state, str(tmp_path / "c.safetensors"))
    with pytest.raises(ValueError, match="must carry @ldl's metadata"):
        load_model(tmp_path / "c.safetensors")


def test_finetune_exported_trains_two_steps_and_keeps_metadata(tmp_path):
    """The Python half of export → train 2 steps → import (the TS half runs `ldl import` on dst)."""
    torch.manual_seed(1)
    src_model = build_model(SMALL)
    pre = preprocessor_json(SMALL, margin=0.4, crop="square-center")
    save_model(src_model, tmp_path / "exported.safetensors", pre)
    r = finetune_exported(tmp_path / "exported.safetensors", tmp_path / "trained.safetensors", steps=2,
                          probe=tmp_path / "probe.json")
    assert len(r["loss"]) == 2
    before, _ = read_safetensors(tmp_path / "exported.safetensors")
    after, meta = read_safetensors(tmp_path / "trained.safetensors")
    assert set(before) == set(after) and json.loads(meta["preprocessor.json"]) == pre
    assert not torch.equal(before["fc.weight"], after["fc.weight"])  # it trained
    assert int(after["bn1.num_batches_tracked"]) == 2 and not torch.equal(before["bn1.running_mean"], after["bn1.running_mean"])
    model, _ = load_model(tmp_path / "trained.safetensors")
    probe = json.loads((tmp_path / "probe.json").read_text())
    with torch.no_grad():
        logits = model(torch.tensor(probe["input"]))
    assert torch.equal(logits, torch.tensor(probe["logits"]["age"]))
    assert torch.equal(torch.tensor(probe["inputNHWC"]).permute(0, 3, 1, 2), torch.tensor(probe["input"]))
