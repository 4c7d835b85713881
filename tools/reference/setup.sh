#!/usr/bin/env bash
# Creates the PyTorch reference venv tools/reference/.venv on first use (idempotent: an existing venv
# with torch and timm importable is left alone). Used by tools/reference/bench_train.py callers
# (pnpm bench:train --reference). Needs python3 with venv and a reachable PyPI (or its mirror).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
venv="$here/.venv"
if [ -x "$venv/bin/python" ] && "$venv/bin/python" -c 'import torch, timm, safetensors, numpy, onnx, webdataset' 2>/dev/null; then
  exit 0
fi
echo "tools/reference/setup.sh: creating $venv (torch 2.14.1 CPU, torchvision, timm, safetensors, numpy, onnx, webdataset) ..." >&2
[ -x "$venv/bin/python" ] || python3 -m venv "$venv"
# onnx: the ONNX export's checker test; webdataset: the shard format read as WebDataset reads it.
"$venv/bin/pip" install --quiet torch==2.14.1 torchvision==0.29.1 timm safetensors numpy onnx==1.23.2 webdataset==1.0.2
"$venv/bin/python" -c 'import torch, timm; print("torch", torch.__version__, "timm", timm.__version__)' >&2
