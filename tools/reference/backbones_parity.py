"""Parity fixtures for @ldl/backbones: small timm models with random weights AND random BatchNorm
running statistics, evaluated in eval mode on a fixed input. Writes, per model,
`<name>.safetensors` (the state dict, keys exactly as the reference library names them) and one
`io.safetensors` (inputs NCHW + logits), plus `parity.json` (versions, seed, how to build the TF.js
twin). The TF.js test (packages/backbones/test/parity.test.ts) imports the weights and compares logits.

Run from the repo root:  tools/reference/.venv/bin/python tools/reference/backbones_parity.py
"""
import json
import pathlib
import platform

import safetensors
import safetensors.torch
import timm
import torch
from timm.layers import ClassifierHead
from timm.models.resnet import Bottleneck, ResNet
from timm.models.vgg import VGG, ConvMlp

SEED = 20260328
OUT = pathlib.Path(__file__).resolve().parents[2] / "packages" / "backbones" / "test" / "fixtures"


def randomize_bn(model: torch.nn.Module, gen: torch.Generator) -> None:
    """Random affine parameters and running statistics, so eval-mode BN is a non-trivial map."""
    for m in model.modules():
        if isinstance(m, torch.nn.BatchNorm2d):
            c = m.num_features
            with torch.no_grad():
                m.weight.copy_(torch.rand(c, generator=gen) + 0.5)
                m.bias.copy_(torch.randn(c, generator=gen) * 0.1)
                m.running_mean.copy_(torch.randn(c, generator=gen) * 0.1)
                m.running_var.copy_(torch.rand(c, generator=gen) + 0.5)


def tiny_resnet(**kw) -> ResNet:
    """widthScale 1/8 of the 50-layer family: stem 8, planes 8/16/32/64, one block per stage.

    timm's plain stem is always 64 wide (`stem_width` only applies to deep stems), so the stem and the
    first block's input convolutions are swapped for 8-input-channel ones (same module names)."""
    m = ResNet(block=Bottleneck, layers=(1, 1, 1, 1), channels=(8, 16, 32, 64), num_classes=10, **kw)
    stem = 8
    m.conv1 = torch.nn.Conv2d(3, stem, 7, stride=2, padding=3, bias=False)
    m.bn1 = torch.nn.BatchNorm2d(stem)
    block = m.layer1[0]
    block.conv1 = torch.nn.Conv2d(stem, block.conv1.out_channels, 1, bias=False)
    block.downsample[0] = torch.nn.Conv2d(stem, block.downsample[0].out_channels, 1, bias=False)
    return m


def cadene_keys(state: dict) -> dict:
    """timm names -> Cadene `pretrainedmodels` names (layer0.conv1, se_module, last_linear)."""
    out = {}
    for k, v in state.items():
        k = k.replace("se.", "se_module.") if ".se." in k else k
        if k.startswith("conv1.") or k.startswith("bn1."):
            k = "layer0." + k
        if k.startswith("fc."):
            k = "last_linear." + k[len("fc."):]
        out[k] = v
    return out


def main() -> None:
    torch.manual_seed(SEED)
    gen = torch.Generator().manual_seed(SEED)
    OUT.mkdir(parents=True, exist_ok=True)
    cases = []
    io = {}

    # 1. plain ResNet (resnet50 family, cardinality 1)
    m = tiny_resnet()
    cases.append(("resnet_tiny", m, 64, "timm", torch.float32, {"depths": [1, 1, 1, 1], "widthScale": 0.125, "numClasses": 10, "inputShape": [64, 64, 3]}))
    # 2. SE-ResNeXt: cardinality 4, base width 32 (grouped 3x3 with 4 groups of 4..32 channels), SE
    m = tiny_resnet(cardinality=4, base_width=32, block_args=dict(attn_layer="se"))
    cfg2 = {"depths": [1, 1, 1, 1], "cardinality": 4, "baseWidth": 32, "attention": "se", "widthScale": 0.125, "numClasses": 10, "inputShape": [64, 64, 3]}
    cases.append(("seresnext_tiny", m, 64, "timm", torch.float32, cfg2))
    # 3. The same architecture with Cadene's stem pool (3x3/2, no padding, ceil_mode) and Cadene key names
    m = tiny_resnet(cardinality=4, base_width=32, block_args=dict(attn_layer="se"))
    m.maxpool = torch.nn.MaxPool2d(3, stride=2, ceil_mode=True)
    cases.append(("seresnext_tiny_cadene", m, 64, "cadene", torch.float16, {**cfg2, "stemPool": "cadene"}))
    # 4. VGG-BN with a reduced cfg and ConvMlp width; 64 px -> 2x2 features -> adaptive pool to 7x7
    vgg_cfg = [8, "M", 16, "M", 16, 16, "M", 32, "M", 32, 32, "M"]
    m = VGG(vgg_cfg, num_classes=10, norm_layer=torch.nn.BatchNorm2d)
    m.pre_logits = ConvMlp(32, 64, 7, mlp_ratio=0.5, drop_rate=0.0)
    m.head = ClassifierHead(64, 10, pool_type="avg")
    cases.append(("vgg_bn_tiny", m, 64, "timm", torch.bfloat16, {"cfg": vgg_cfg, "numFeatures": 64, "mlpRatio": 0.5, "numClasses": 10, "inputShape": [64, 64, 3]}))

    meta_cases = {}
    for name, model, size, source, dtype, tfjs_config in cases:
        randomize_bn(model, gen)
        with torch.no_grad():  # SE / heads: non-zero random biases
            for mod in model.modules():
                if isinstance(mod, (torch.nn.Conv2d, torch.nn.Linear)) and mod.bias is not None:
                    mod.bias.copy_(torch.randn(mod.bias.shape, generator=gen) * 0.1)
            # Storage dtype (F16 / BF16 halve the fixture and exercise those readers): round every float
            # tensor to it first, so the stored values are exactly what the float32 reference computed with.
            for t in list(model.parameters()) + list(model.buffers()):
                if t.is_floating_point():
                    t.copy_(t.to(dtype).float())
        model.eval()
        x = torch.randn(2, 3, size, size, generator=gen)
        with torch.no_grad():
            logits = model(x)
        state = {k: (v.to(dtype) if v.is_floating_point() else v).contiguous() for k, v in model.state_dict().items()}
        if source == "cadene":
            state = cadene_keys(state)
        safetensors.torch.save_file(state, str(OUT / f"{name}.safetensors"))
        io[f"{name}.input"] = x.contiguous()
        io[f"{name}.logits"] = logits.contiguous()
        meta_cases[name] = {
            "family": "vgg" if name.startswith("vgg") else "resnet",
            "source": source,
            "tfjsConfig": tfjs_config,
            "params": sum(p.numel() for p in model.parameters()),
            "storageDtype": str(dtype).replace("torch.", ""),
            "inputShapeNCHW": list(x.shape),
        }
    safetensors.torch.save_file(io, str(OUT / "io.safetensors"))
    meta = {
        "generatedBy": "tools/reference/backbones_parity.py",
        "seed": SEED,
        "torch": torch.__version__,
        "timm": timm.__version__,
        "safetensors": safetensors.__version__,
        "python": platform.python_version(),
        "note": "Random weights and random BN running stats, eval mode. io.safetensors holds <name>.input (NCHW) and <name>.logits.",
        "cases": meta_cases,
    }
    (OUT / "parity.json").write_text(json.dumps(meta, indent=2) + "\n")
    total = sum(p.stat().st_size for p in OUT.iterdir())
    print(f"wrote {len(cases)} cases to {OUT} ({total / 1e6:.2f} MB)")


if __name__ == "__main__":
    main()
