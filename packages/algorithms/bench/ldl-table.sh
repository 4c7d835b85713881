#!/usr/bin/env bash
# The README table: 10-fold CV (seed 0) of @ldl's algorithms with `ldl cv` on each LDL benchmark set,
# then PyLDL's SA-BFGS (and AA-kNN) on exactly the same folds (tools/reference/ldl_cv_reference.py).
#   bash packages/algorithms/bench/ldl-table.sh [SET...]      (from the repository root; default: SJAFFE)
# Sets: SJAFFE SBU_3DFE Movie Yeast_alpha Yeast_spo5 (in ../shared/datasets/ldl). ALGORITHMS overrides
# the @ldl algorithms (default: sa-bfgs,aa-knn,deep-ldl for SJAFFE, sa-bfgs,aa-knn otherwise).
# Output: the tables on stdout; folds and per-fold JSON under runs/ldl-table/.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../../.." && pwd)"
data="$root/../shared/datasets/ldl"
out="$root/runs/ldl-table"
mkdir -p "$out"
[ -d "$data" ] || { echo "ldl-table: $data is absent (the LDL benchmark sets); nothing to run." >&2; exit 1; }
"$root/tools/reference/setup_pyldl.sh"
cd "$root"
for set in "${@:-SJAFFE}"; do
  algorithms="${ALGORITHMS:-$([ "$set" = SJAFFE ] && echo sa-bfgs,aa-knn,deep-ldl || echo sa-bfgs,aa-knn)}"
  echo "## $set"
  pnpm ldl cv \
    --data "$data/$set.mat" --algorithm "$algorithms" --no-progress \
    --save-folds "$out/$set-folds.json" --json "$out/$set-ldl.json"
  tools/reference/.venv/bin/python tools/reference/ldl_cv_reference.py --folds "$out/$set-folds.json" \
    --algorithms SA_BFGS,AA_KNN --json "$out/$set-pyldl.json" 2>/dev/null
done
