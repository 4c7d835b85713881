#!/usr/bin/env bash
# Tests of the PyTorch package python/ldl_torch (CPU, gloo), for .ci/run or by hand:
#   python/test.sh [pytest args…]
# Uses tools/reference/.venv (created by tools/reference/setup.sh where absent), installs ./python[test] into it
# (editable), and runs pytest on python/tests. LDL_TORCH_VENV=/path/to/venv uses another venv (which must already
# have torch, timm, safetensors, numpy and pillow).
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
venv="${LDL_TORCH_VENV:-$repo/tools/reference/.venv}"
if [ -z "${LDL_TORCH_VENV:-}" ]; then
  "$repo/tools/reference/setup.sh"
fi
py="$venv/bin/python"
[ -x "$py" ] || { echo "python/test.sh: $py does not exist (LDL_TORCH_VENV must name a venv)" >&2; exit 2; }
# Installed (editable, from this checkout) with pytest? Checked without importing torch (find_spec runs no code).
where="$("$py" -c 'import importlib.util as u, pathlib
s = u.find_spec("ldl_torch")
ok = s is not None and s.origin and all(u.find_spec(m) for m in ("pytest", "PIL"))
print(pathlib.Path(s.origin).resolve().parents[1] if ok else "")')"
if [ "$where" != "$repo/python" ]; then
  "$py" -m pip install --quiet -e "$repo/python[test]"
fi
cd "$repo/python"
OMP_NUM_THREADS="${OMP_NUM_THREADS:-1}" exec "$py" -m pytest -q "$@"
