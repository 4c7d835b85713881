#!/usr/bin/env bash
# Installs Mesa's lavapipe — a Vulkan driver that runs on the CPU — so that Dawn (npm `webgpu`) finds a
# WebGPU adapter on a machine without a GPU, and the webgpu cases of `pnpm test` (@ldl/kernels' WGSL
# shaders) run instead of being skipped. Debian 12 (bookworm): its own Mesa 22.3 lavapipe lacks the
# descriptor indexing Dawn needs ("Vulkan shaderUniform*ArrayDynamicIndexing required"), so Mesa 25 comes
# from bookworm-backports. Needs root and the Debian mirror; other systems: install a Mesa >= 23 lavapipe
# (package mesa-vulkan-drivers) by their own means. Optional: nothing else needs it, and GPU speed is
# not what it measures (it runs the shaders on the CPU).
set -euo pipefail
kernels="$(cd "$(dirname "${BASH_SOURCE[0]}")/../../packages/kernels" && pwd)"
# Whether Dawn finds an adapter (run where `webgpu` resolves: @ldl/kernels' devDependency).
has_adapter() {
  (cd "$kernels" && node -e "import('webgpu').then(async ({ create }) => process.exit((await create([]).requestAdapter()) ? 0 : 1), () => process.exit(2))" >/dev/null 2>&1)
}
if has_adapter; then
  echo "tools/webgpu-cpu/setup.sh: a WebGPU adapter is already available; nothing to do."
  exit 0
fi
if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null; then
  echo "tools/webgpu-cpu/setup.sh: needs root and apt-get (Debian); install Mesa >= 23's lavapipe (mesa-vulkan-drivers) yourself." >&2
  exit 1
fi
. /etc/os-release
list=/etc/apt/sources.list.d/ldl-backports.list
if [ "${VERSION_CODENAME:-}" = bookworm ]; then
  grep -rqs 'bookworm-backports' /etc/apt/sources.list /etc/apt/sources.list.d/ || echo 'deb http://deb.debian.org/debian bookworm-backports main' > "$list"
  apt-get update -qq
  apt-get install -y -qq -t bookworm-backports mesa-vulkan-drivers >/dev/null
else
  apt-get update -qq
  apt-get install -y -qq mesa-vulkan-drivers >/dev/null
fi
version="$(dpkg-query -W -f='${Version}' mesa-vulkan-drivers)"
if ! has_adapter; then
  echo "tools/webgpu-cpu/setup.sh: installed mesa-vulkan-drivers $version, but Dawn still finds no WebGPU adapter (is \`pnpm install\` done?)." >&2
  exit 1
fi
echo "tools/webgpu-cpu/setup.sh: installed mesa-vulkan-drivers $version; Dawn finds a WebGPU adapter."
