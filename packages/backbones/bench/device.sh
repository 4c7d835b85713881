#!/usr/bin/env bash
# The grouped-conv benchmark on webgpu on the GPU machine (recipe: ../shared/gpu/README.md).
#   packages/backbones/bench/device.sh build   # here: fills packages/backbones/.scratch/device (git-ignored, ~31 MB)
#   packages/backbones/bench/device.sh run     # there, with carry ["packages/backbones/.scratch/device"]
set -euo pipefail
pkg="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
repo="$(cd "$pkg/../.." && pwd)"
out="$pkg/.scratch/device"
case "${1:-}" in
  build)
    mkdir -p "$out/node_modules/webgpu"
    webgpu="$(cd "$pkg/node_modules/webgpu" && pwd -P)"
    cp "$webgpu/index.js" "$webgpu/package.json" "$out/node_modules/webgpu/"
    [ -s "$out/node.xz" ] || xz -T2 -6 -c "$(command -v node)" > "$out/node.xz"
    [ -s "$out/dawn.node.xz" ] || xz -T2 -6 -c "$webgpu/dist/linux-x64/dawn.node" > "$out/dawn.node.xz"
    cp "$repo"/../shared/gpu/*.deb "$out/"
    esbuild="$(dirname "$(find "$repo/node_modules/.pnpm" -path '*esbuild@*/node_modules/esbuild/bin/esbuild' | head -1)")/.."
    "$esbuild/bin/esbuild" "$pkg/bench/grouped-conv.ts" --bundle --platform=node --format=esm --target=node20 \
      --outfile="$out/grouped-conv.mjs" --tsconfig="$pkg/tsconfig.json" --main-fields=module,main --external:webgpu \
      --log-level=warning --banner:js="import { createRequire as __r } from 'node:module'; const require = __r(import.meta.url);"
    du -sh "$out" ;;
  run)
    cd "$out"
    mkdir -p /tmp/n && xz -dc node.xz > /tmp/n/node && chmod +x /tmp/n/node && export PATH=/tmp/n:$PATH
    for f in *.deb; do dpkg -x "$f" /; done
    ldconfig
    export VK_DRIVER_FILES=/usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json
    mkdir -p node_modules/webgpu/dist/linux-x64 && xz -dc dawn.node.xz > node_modules/webgpu/dist/linux-x64/dawn.node
    nvidia-smi --query-gpu=name --format=csv,noheader
    timeout "${2:-400}" node grouped-conv.mjs --backends webgpu --repeats 5 --batch 32 2>&1 | grep -v '^\s*$' | tee "${OUT:-/tmp}/gpu-grouped-conv.log" ;;
  *) echo "usage: $0 build|run [seconds]" >&2; exit 2 ;;
esac
