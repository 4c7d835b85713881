#!/usr/bin/env bash
# Installs PyLDL (PyPI `python-ldl`, pinned) into the dev-only reference venv tools/reference/.venv
# (git-ignored; shared with setup.sh's PyTorch tools). Idempotent. Used by ldl_measures_parity.py and
# ldl_cv_reference.py. python-ldl pulls keras 3, numba, scikit-learn, scipy, matplotlib (~700 MB venv).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
venv="$here/.venv"
if [ -x "$venv/bin/python" ] && KERAS_BACKEND=torch "$venv/bin/python" -c 'import pyldl.metrics, pyldl.algorithms' 2>/dev/null; then
  exit 0
fi
echo "tools/reference/setup_pyldl.sh: installing python-ldl 0.1.2 into $venv ..." >&2
[ -x "$venv/bin/python" ] || python3 -m venv "$venv"
"$venv/bin/pip" install --quiet python-ldl==0.1.2
