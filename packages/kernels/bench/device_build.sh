#!/usr/bin/env bash
# Prepares .device/ (git-ignored) for the GPU run of packages/kernels/bench/device_run.sh, following
# ../shared/gpu/README.md: node (xz), the Vulkan-loader .debs, npm `webgpu` with dawn.node (xz), and
# the two benchmark programs (this package's kernels_check.ts, @ldl/backbones' bench/train_main.ts) bundled by esbuild with every JS dependency inlined but `webgpu`.
# Usage (repo root): packages/kernels/bench/device_build.sh   → then run device_run.sh on the GPU machine.
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/../../.." && pwd)"
out="$repo/.device"
kernels="$repo/packages/kernels"
mkdir -p "$out/node_modules/webgpu/dist/linux-x64"
grep -qx '/.device/' "$repo/.git/info/exclude" 2>/dev/null || { mkdir -p "$repo/.git/info"; echo '/.device/' >> "$repo/.git/info/exclude"; }
webgpu="$(cd "$kernels/node_modules/webgpu" && pwd -P)"
cp "$webgpu/index.js" "$webgpu/package.json" "$out/node_modules/webgpu/"
[ -s "$out/node.xz" ] || xz -T2 -6 -c "$(command -v node)" > "$out/node.xz"
[ -s "$out/dawn.node.xz" ] || xz -T2 -6 -c "$webgpu/dist/linux-x64/dawn.node" > "$out/dawn.node.xz"
cp "$repo"/../shared/gpu/*.deb "$out/"
esbuild="$(cd "$repo/node_modules/.pnpm/node_modules/esbuild" 2>/dev/null && pwd -P || true)"
[ -n "$esbuild" ] || esbuild="$(dirname "$(find "$repo/node_modules/.pnpm" -path '*esbuild@*/node_modules/esbuild/bin/esbuild' | head -1)")/.."
"$esbuild/bin/esbuild" "$kernels/bench/kernels_check.ts" "$repo/packages/backbones/bench/train_main.ts" \
  --bundle --platform=node --format=esm --target=node20 --outdir="$out" --out-extension:.js=.mjs \
  --tsconfig="$kernels/tsconfig.json" --main-fields=module,main --external:webgpu --log-level=warning \
  --banner:js="import { createRequire as __ldlCreateRequire } from 'node:module'; const require = __ldlCreateRequire(import.meta.url);"
du -sh "$out"/* | sort -h
