"""Dev-only reference for @ldl's PyTorch export (packages/backbones/test/export_parity.test.ts and
packages/train's `ldl import` test). Reads a manifest the test writes; for each case it builds the timm
model, loads the exported safetensors with `load_state_dict(strict=True)`, evaluates it on the test's input
(NCHW) and writes the logits; with `train`, it then trains a few SGD/Adam steps on seeded random data, saves
the state dict as safetensors with the input file's `__metadata__` carried over (as the Python package does),
and writes the trained model's logits too.

Manifest (JSON): {"inputs": "inputs.safetensors", "out": "logits.safetensors", "cases": [
  {"name": "resnet50", "file": "resnet50.safetensors", "arch": {"timm": "resnet50"}},
  {"name": "vgg_tiny", "file": "...", "arch": {"vgg": {"cfg": [8, "M"], "num_features": 16, "mlp_ratio": 0.5}}},
  {"name": "mt", "file": "...", "arch": {"multitask": "resnet18"}},
  {"name": "t", "file": "...", "arch": {"timm": "resnet18"}, "train": {"steps": 2, "optimizer": "adam", "lr": 1e-3, "out": "trained.safetensors"}}]}
`inputs` holds `<name>` (NCHW float32); `out` gets `<name>` (eval logits; multi-task: `<name>.age`, `.gender`,
`.ethnicity`) and, with `train`, `<name>.trained` (and the multi-task's `.trained.age` …).
num_classes comes from the state dict (the classifier's rows).

Run:  tools/reference/.venv/bin/python tools/reference/export_parity.py MANIFEST.json
"""
import json
import pathlib
import sys
import time

import safetensors
import safetensors.torch
import timm
import torch
from timm.layers import ClassifierHead
from timm.models.vgg import VGG, ConvMlp

SEED = 20261206


class MultiTaskAge(torch.nn.Module):
    """@ldl's multi-task age model on a timm ResNet trunk (num_classes=0), with @ldl's documented extra keys:
    `gender` and `ethnicity` (nn.Linear) on layer2 globally average-pooled; `age` (nn.Linear) on
    concat(pooled features, gender logits, ethnicity logits). Outputs (age, gender, ethnicity) logits."""

    def __init__(self, trunk: str, state: dict):
        super().__init__()
        self.trunk = timm.create_model(trunk, num_classes=0, pretrained=False)
        def linear(name):
            w = state[f"{name}.weight"]
            return torch.nn.Linear(w.shape[1], w.shape[0])
        self.gender, self.ethnicity, self.age = linear("gender"), linear("ethnicity"), linear("age")

    def load(self, state: dict) -> None:
        heads = ("gender.", "ethnicity.", "age.")
        self.trunk.load_state_dict({k: v for k, v in state.items() if not k.startswith(heads)}, strict=True)
        for name in ("gender", "ethnicity", "age"):
            getattr(self, name).load_state_dict({k[len(name) + 1:]: v for k, v in state.items() if k.startswith(name + ".")}, strict=True)

    def state_for_ldl(self) -> dict:
        out = dict(self.trunk.state_dict())
        for name in ("gender", "ethnicity", "age"):
            out.update({f"{name}.{k}": v for k, v in getattr(self, name).state_dict().items()})
        return out

    def forward(self, x):
        t = self.trunk
        x = t.maxpool(t.act1(t.bn1(t.conv1(x))))
        mid = t.layer2(t.layer1(x))
        pooled_mid = mid.mean((2, 3))
        g, e = self.gender(pooled_mid), self.ethnicity(pooled_mid)
        f = t.layer4(t.layer3(mid)).mean((2, 3))
        return self.age(torch.cat([f, g, e], 1)), g, e


def build(arch: dict, state: dict) -> torch.nn.Module:
    if "multitask" in arch:
        m = MultiTaskAge(arch["multitask"], state)
        m.load(state)
        return m
    if "timm" in arch:
        head = next((k for k in ("fc.weight", "last_linear.weight", "head.fc.weight") if k in state), None)
        num_classes = state[head].shape[0] if head else 0
        m = timm.create_model(arch["timm"], num_classes=num_classes, pretrained=False)
    else:
        v = arch["vgg"]
        num_classes = state["head.fc.weight"].shape[0]
        m = VGG(v["cfg"], num_classes=num_classes, norm_layer=torch.nn.BatchNorm2d)
        last = [c for c in v["cfg"] if c != "M"][-1]
        m.pre_logits = ConvMlp(last, v["num_features"], 7, mlp_ratio=v["mlp_ratio"], drop_rate=0.0)
        m.head = ClassifierHead(v["num_features"], num_classes, pool_type="avg")
    m.load_state_dict(state, strict=True)
    return m


def outputs(model, x) -> list:
    y = model(x)
    return list(y) if isinstance(y, tuple) else [y]


def put(out: dict, key: str, ys: list) -> None:
    if len(ys) == 1:
        out[key] = ys[0].contiguous()
    else:
        for head, y in zip(("age", "gender", "ethnicity"), ys):
            out[f"{key}.{head}"] = y.contiguous()


def main() -> None:
    manifest_path = pathlib.Path(sys.argv[1])
    root = manifest_path.parent
    manifest = json.loads(manifest_path.read_text())
    inputs = safetensors.torch.load_file(str(root / manifest["inputs"]))
    out = {}
    torch.manual_seed(SEED)
    for case in manifest["cases"]:
        t0 = time.time()
        file = root / case["file"]
        state = safetensors.torch.load_file(str(file))
        with safetensors.safe_open(str(file), "pt") as f:
            metadata = f.metadata() or {}
        model = build(case["arch"], state)
        model.eval()
        x = inputs[case["name"]]
        with torch.no_grad():
            put(out, case["name"], outputs(model, x))
        train = case.get("train")
        if train:
            gen = torch.Generator().manual_seed(SEED)
            model.train()
            params = [p for p in model.parameters() if p.requires_grad]
            opt = torch.optim.Adam(params, lr=train["lr"]) if train["optimizer"] == "adam" else torch.optim.SGD(params, lr=train["lr"], momentum=0.9)
            for _ in range(train["steps"]):
                xb = torch.randn(4, *x.shape[1:], generator=gen)
                ys = outputs(model, xb)
                loss = sum(torch.nn.functional.cross_entropy(y, torch.randint(0, y.shape[1], (4,), generator=gen)) for y in ys)
                opt.zero_grad()
                loss.backward()
                opt.step()
            model.eval()
            with torch.no_grad():
                put(out, case["name"] + ".trained", outputs(model, x))
            sd = model.state_for_ldl() if isinstance(model, MultiTaskAge) else model.state_dict()
            safetensors.torch.save_file({k: v.contiguous() for k, v in sd.items()}, str(root / train["out"]), metadata=metadata)
        print(f"export_parity.py: {case['name']} ({case['arch']}) loaded strictly in {time.time() - t0:.1f} s", file=sys.stderr)
    safetensors.torch.save_file(out, str(root / manifest["out"]))
    print(json.dumps({"torch": torch.__version__, "timm": timm.__version__, "cases": len(manifest["cases"])}))


if __name__ == "__main__":
    main()
