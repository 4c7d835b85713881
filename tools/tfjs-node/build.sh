#!/usr/bin/env bash
# Builds @tensorflow/tfjs-node against the TensorFlow C library shipped inside PyPI's `tensorflow-cpu`
# wheel, for machines that reach the npm and PyPI registries but not Google's storage (where the stock
# install script downloads libtensorflow). Optional: nothing in the README's commands or in CI needs it.
#
# Output (git-ignored): tools/tfjs-node/build/node_modules/@tensorflow/tfjs-node, a self-contained package
# (its own node_modules, the TensorFlow libraries in deps/lib). Use it with
#   LDL_TFJS_NODE=<that absolute path> pnpm bench:train --backend tensorflow ...
# See tools/tfjs-node/README.md.
#
# Usage: tools/tfjs-node/build.sh [--force] [--no-smoke]
#   --force     rebuild even if a build with the same versions is already there
#   --no-smoke  skip the smoke check at the end
# Environment: LDL_TF_VERSION (tensorflow-cpu version, default 2.21.0), JOBS (compile jobs, default 2).
set -euo pipefail

TFJS_VERSION=4.22.0
TF_VERSION="${LDL_TF_VERSION:-2.21.0}"
JOBS="${JOBS:-2}"
FORCE=0
SMOKE=1
for arg in "$@"; do
  case "$arg" in
    --force) FORCE=1 ;;
    --no-smoke) SMOKE=0 ;;
    -h|--help) sed -n '2,15p' "$0"; exit 0 ;;
    *) printf 'build.sh: unknown argument %s (expected --force, --no-smoke)\n' "$arg" >&2; exit 2 ;;
  esac
done

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO="$(cd "$HERE/../.." && pwd)"
BUILD="$HERE/build"
DL="$BUILD/downloads"
PKG="$BUILD/node_modules/@tensorflow/tfjs-node"
STAGE="$BUILD/staging/tfjs-node"

log() { printf '[tfjs-node %5ss] %s\n' "$SECONDS" "$*" >&2; }
die() { printf '[tfjs-node] ERROR: %s\n' "$*" >&2; exit 1; }
need() { command -v "$1" >/dev/null 2>&1 || die "'$1' not found on PATH; $2"; }

# --- preconditions -------------------------------------------------------------------------------
[[ "$(uname -s)" == Linux && "$(uname -m)" == x86_64 ]] \
  || die "only Linux x86_64 is supported (the tensorflow-cpu wheel used here), but this is $(uname -s) $(uname -m)"
need node "install Node.js >= 18"
need npm "it comes with Node.js"
need python3 "needed for 'pip download' and to unpack the wheel"
need g++ "install a C++ compiler (Debian: apt-get install g++ make)"
need make "install make (Debian: apt-get install make)"
need nm "install binutils"
python3 -m pip --version >/dev/null 2>&1 || die "python3 has no pip (Debian: apt-get install python3-pip)"
if git -C "$REPO" rev-parse --is-inside-work-tree >/dev/null 2>&1; then
  git -C "$REPO" check-ignore -q "$BUILD/x" \
    || die "$BUILD is not git-ignored; add '/tools/tfjs-node/build/' to $REPO/.gitignore first"
fi

NAPI="$(node -p 'process.versions.napi')"
STAMP="tfjs-node@$TFJS_VERSION tensorflow-cpu==$TF_VERSION node-napi=$NAPI"
mkdir -p "$DL"

if [[ $FORCE == 0 && -f "$PKG/.ldl-build" && "$(cat "$PKG/.ldl-build")" == "$STAMP" ]]; then
  log "already built ($STAMP) at $PKG; use --force to rebuild"
else
  # --- 1. downloads (cached in build/downloads) ------------------------------------------------------
  WHEEL="$(ls "$DL"/tensorflow_cpu-"$TF_VERSION"-*.whl 2>/dev/null | head -n1 || true)"
  if [[ -z "$WHEEL" ]]; then
    log "downloading tensorflow-cpu==$TF_VERSION from PyPI (about 270 MB) ..."
    # Pin the platform and interpreter so the same wheel is fetched whatever python3 this is; only its
    # shared libraries and C headers are used, never its Python code.
    python3 -m pip download --no-deps --only-binary=:all: --disable-pip-version-check \
      --platform manylinux_2_27_x86_64 --python-version 3.11 --implementation cp \
      -d "$DL" "tensorflow-cpu==$TF_VERSION" \
      || die "pip could not download tensorflow-cpu==$TF_VERSION (is PyPI reachable?)"
    WHEEL="$(ls "$DL"/tensorflow_cpu-"$TF_VERSION"-*.whl | head -n1)"
  else
    log "using cached $(basename "$WHEEL")"
  fi
  TGZ="$DL/tensorflow-tfjs-node-$TFJS_VERSION.tgz"
  if [[ ! -f "$TGZ" ]]; then
    log "fetching @tensorflow/tfjs-node@$TFJS_VERSION from npm ..."
    (cd "$DL" && npm pack --silent "@tensorflow/tfjs-node@$TFJS_VERSION" >/dev/null) \
      || die "npm pack @tensorflow/tfjs-node@$TFJS_VERSION failed (is the npm registry reachable?)"
  else
    log "using cached $(basename "$TGZ")"
  fi

  # --- 2. unpack the package and lay out deps/ from the wheel ---------------------------------------
  log "unpacking into $STAGE ..."
  rm -rf "$STAGE"
  mkdir -p "$STAGE"
  tar -xzf "$TGZ" -C "$STAGE" --strip-components=1
  # The wheel's libtensorflow_cc.so.2 exports the C API (TF_*, TFE_*); libtensorflow_framework.so.2 is
  # its companion (both carry SONAMEs ending in .so.2). The headers are the wheel's include/tensorflow/c
  # plus the few tsl/xla headers they include (found with `g++ -M`).
  python3 - "$WHEEL" "$STAGE/deps" <<'PY'
import os, sys, zipfile
wheel, deps = sys.argv[1], sys.argv[2]
libs = {'tensorflow/libtensorflow_cc.so.2', 'tensorflow/libtensorflow_framework.so.2'}
headers = ('tensorflow/include/tensorflow/c/', 'tensorflow/include/tensorflow/core/platform/ctstring',
           'tensorflow/include/tsl/platform/ctstring', 'tensorflow/include/xla/tsl/c/')
found = set()
with zipfile.ZipFile(wheel) as z:
    for info in z.infolist():
        name = info.filename
        if name in libs:
            dest = os.path.join(deps, 'lib', os.path.basename(name))
            found.add(name)
        elif name.startswith(headers) and not name.endswith('/'):
            dest = os.path.join(deps, 'include', name[len('tensorflow/include/'):])
        else:
            continue
        os.makedirs(os.path.dirname(dest), exist_ok=True)
        with z.open(info) as src, open(dest, 'wb') as out:
            while chunk := src.read(1 << 22):
                out.write(chunk)
missing = libs - found
if missing:
    sys.exit(f'the wheel {wheel} lacks {sorted(missing)}')
PY
  ln -sf libtensorflow_cc.so.2 "$STAGE/deps/lib/libtensorflow.so"          # for -ltensorflow at link time
  ln -sf libtensorflow_cc.so.2 "$STAGE/deps/lib/libtensorflow.so.2"
  ln -sf libtensorflow_framework.so.2 "$STAGE/deps/lib/libtensorflow_framework.so"
  log "deps/lib: $(du -sh --apparent-size "$STAGE/deps/lib" | cut -f1), deps/include: $(find "$STAGE/deps/include" -type f | wc -l) headers"

  # The package's install script would download libtensorflow from Google storage: drop the scripts
  # (and the dev dependencies, which are only the upstream repo's build tools).
  node -e '
    const fs = require("fs"), f = process.argv[1], p = JSON.parse(fs.readFileSync(f, "utf8"));
    delete p.scripts; delete p.devDependencies;
    fs.writeFileSync(f, JSON.stringify(p, null, 2) + "\n");' "$STAGE/package.json"

  # --- 3. JS dependencies (@tensorflow/tfjs@4.22.0 and friends) from npm ------------------------------
  log "installing the package's npm dependencies ..."
  (cd "$STAGE" && npm install --omit=dev --ignore-scripts --no-package-lock --no-audit --no-fund \
    --loglevel=error >/dev/null) || die "npm install of tfjs-node's dependencies failed"
  for dep in tfjs tfjs-core; do
    v="$(node -p "require('$STAGE/node_modules/@tensorflow/$dep/package.json').version")"
    [[ "$v" == "$TFJS_VERSION" ]] || die "@tensorflow/$dep in the built package is $v, expected $TFJS_VERSION"
  done

  # --- 4. compile the native addon (what node-pre-gyp --build-from-source would do) ----------------
  NAPI_BUILD="$(node -p "
    const v = require('$STAGE/package.json').binary.napi_versions.filter(n => n <= +process.versions.napi);
    v.length ? Math.max(...v) : ''")"
  [[ -n "$NAPI_BUILD" ]] || die "this Node.js (N-API $NAPI) is older than every N-API version tfjs-node supports"
  NODE_GYP="$(npm root -g)/npm/node_modules/node-gyp/bin/node-gyp.js"
  if [[ -f "$NODE_GYP" ]]; then GYP=(node "$NODE_GYP"); else GYP=(npx --yes node-gyp@10); fi
  GYP_ARGS=()
  NODE_PREFIX="$(dirname "$(dirname "$(readlink -f "$(command -v node)")")")"
  if [[ -f "$NODE_PREFIX/include/node/node_api.h" ]]; then
    GYP_ARGS+=("--nodedir=$NODE_PREFIX")   # local headers: node-gyp need not download them
  else
    log "no Node.js headers under $NODE_PREFIX/include/node; node-gyp will download them from nodejs.org"
  fi
  log "compiling tfjs_binding.node (N-API $NAPI_BUILD, -j$JOBS) with $("${GYP[@]}" --version) ..."
  (cd "$STAGE" && "${GYP[@]}" configure "${GYP_ARGS[@]}" -- \
      -Dnapi_build_version="$NAPI_BUILD" -Dmodule_name=tfjs_binding \
      -Dmodule_path="$STAGE/lib/napi-v$NAPI_BUILD" >"$BUILD/node-gyp.log" 2>&1 \
    && "${GYP[@]}" build --jobs "$JOBS" >>"$BUILD/node-gyp.log" 2>&1) \
    || { tail -n 40 "$BUILD/node-gyp.log" >&2; die "node-gyp failed; full log in $BUILD/node-gyp.log"; }
  ADDON="$STAGE/lib/napi-v$NAPI_BUILD/tfjs_binding.node"
  [[ -f "$ADDON" ]] || die "node-gyp succeeded but $ADDON is missing"
  rm -rf "$STAGE/build"   # object files; the addon was copied to lib/napi-v$NAPI_BUILD

  # --- 5. C API compatibility: every TF_*/TFE_* symbol the addon needs must be exported ----------------
  # (an addon is linked with undefined symbols allowed and loaded lazily, so a missing one would only
  # fail at the first call).
  missing="$(comm -23 \
    <(nm -D --undefined-only "$ADDON" | awk '{print $2}' | sed 's/@.*//' | grep -E '^TFE?_' | sort -u) \
    <(for l in "$STAGE"/deps/lib/lib*.so.2; do nm -D --defined-only "$l"; done \
        | awk '{print $3}' | sed 's/@.*//' | grep -E '^TFE?_' | sort -u))"
  [[ -z "$missing" ]] || die "the TensorFlow $TF_VERSION libraries lack C API symbols the addon uses: $missing"
  if ldd "$ADDON" | grep -q 'not found'; then die "unresolved libraries: $(ldd "$ADDON" | grep 'not found')"; fi
  log "addon links: $(nm -D --undefined-only "$ADDON" | grep -cE ' TFE?_') TF_/TFE_ symbols, all exported by the wheel's libraries"

  # --- 6. publish the finished package in place ----------------------------------------------------
  echo "$STAMP" >"$STAGE/.ldl-build"
  rm -rf "$PKG"
  mkdir -p "$(dirname "$PKG")"
  mv "$STAGE" "$PKG"
  rmdir "$BUILD/staging" 2>/dev/null || true
  log "built $PKG ($(du -sh "$PKG" | cut -f1))"
fi

# --- 7. smoke check ----------------------------------------------------------------------------------
if [[ $SMOKE == 1 ]]; then
  log "smoke check: backend, conv2d and its gradients, native grouped Conv2D, shared engine ..."
  (cd "$REPO" && LDL_TFJS_NODE="$PKG" node "$HERE/smoke.mjs") || die "smoke check failed"
fi
log "done. Use:  LDL_TFJS_NODE=$PKG"
