#!/usr/bin/env bash
# Wall time of @ldl's label enhancement against PyLDL 0.1.2's, in one command on one machine: each method once
# on s-JAFFE's 212 distinct samples with PyLDL's binarised labels (tools/reference/ldl_le_parity.py --timings,
# then bench/le-speed.ts). Prints one `RESULT le-speed <METHOD> ...` line per method (ratio = @ldl / PyLDL).
#   bash packages/algorithms/bench/le-speed.sh      (from the repository root; data in ../shared/datasets/ldl)
# METHODS=LP,KM,... limits the methods (default all: LP,KM,ML,GLLE,LEVI,FCM; LEVI and FCM take minutes).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../../.." && pwd)"
cd "$root"
"$root/tools/reference/setup_pyldl.sh"
out="$(mktemp -d)/pyldl-le-seconds.json"
methods="${METHODS:-LP,KM,ML,GLLE,LEVI,FCM}"
tools/reference/.venv/bin/python tools/reference/ldl_le_parity.py --timings "$out" --methods "$methods" 2>/dev/null
node --import tsx packages/algorithms/bench/le-speed.ts "$out" "$methods"
