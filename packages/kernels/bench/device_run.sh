#!/usr/bin/env bash
# The GPU run (one NVIDIA GPU, see ../shared/gpu/README.md), from the repository root of a copy that
# carries .device/ (made by packages/kernels/bench/device_build.sh):
#   1. kernels_check: fast vs stock webgpu kernels on random data (max relative error, ms);
#   2. bench:train on webgpu, fast then stock kernels, resnet50 and seresnext50_32x4d at 224 and 112 px,
#      batch 32, with the PyTorch reference (this machine's own torch + timm, CUDA fp32) and the ratios.
# Usage: packages/kernels/bench/device_run.sh [seconds after which no new training configuration starts]
#        [kernel sets, default fast,stock] [profile: 1 = first print the top kernels of one fast resnet50 224 step]
# Extra flags for the training bench from LDL_BENCH_EXTRA, e.g. LDL_BENCH_EXTRA='--tf-flag WEBGPU_DEFERRED_SUBMIT_BATCH_SIZE=256'.
set -uo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../../.."
budget="${1:-330}"
kernel_sets="${2:-fast,stock}"
profile="${3:-0}"
mkdir -p /tmp/n && xz -dc .device/node.xz > /tmp/n/node && chmod +x /tmp/n/node && export PATH=/tmp/n:$PATH
for f in .device/*.deb; do dpkg -x "$f" /; done
ldconfig
export VK_DRIVER_FILES=/usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json
mkdir -p .device/node_modules/webgpu/dist/linux-x64
xz -dc .device/dawn.node.xz > .device/node_modules/webgpu/dist/linux-x64/dawn.node
log="${OUT:-/tmp}/gpu.log"
{
  echo "GPU $(nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader)"
  python3 -c 'import torch, timm; print("TORCH", torch.__version__, "timm", timm.__version__, torch.cuda.get_device_name(0))'
  (cd .device && timeout 150 node kernels_check.mjs --backend webgpu; echo "kernels_check exit $?")
  if [ "$profile" = 1 ]; then
    (cd .device && LDL_DAWN_FLAGS=enable-dawn-features=allow_unsafe_apis node train_main.mjs --backend webgpu \
      --model resnet50 --size 224 --batch 32 --steps 1 --warmup 1 \
      --kernels fast --profile 2>&1 | grep -v "^  webgpu ")
  fi
  (cd .device && LDL_REPO_ROOT="$PWD/.." node train_main.mjs --backend webgpu --model resnet50,seresnext50_32x4d \
    --size 224,112 --batch 32 --steps 3 --warmup 1 --kernels "$kernel_sets" --time-budget "$budget" \
    --reference --reference-python python3 --reference-device cuda ${LDL_BENCH_EXTRA:-}; echo "train exit $?")
} 2>&1 | grep -v '^  webgpu \|^\s*$' | tee "$log"
