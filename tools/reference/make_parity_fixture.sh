#!/usr/bin/env bash
# Makes packages/algorithms/test/fixtures/pyldl-parity-sjaffe.json, the PyLDL side of the per-algorithm parity
# test (packages/algorithms/test/pyldl-parity.test.ts): PyLDL 0.1.2 (python-ldl, Keras on torch) on s-JAFFE,
# 3 folds of @ldl's seed-0 split, every algorithm @ldl has, defaults except the lighter settings in LIGHT
# (fewer epochs / iterations for the slow iterative methods, the same values on both sides).
#   bash tools/reference/make_parity_fixture.sh        (from the repository root; needs ../shared/datasets/ldl)
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$root"
data="$root/../shared/datasets/ldl/SJAFFE.mat"
out=packages/algorithms/test/fixtures/pyldl-parity-sjaffe.json
tmp="$(mktemp -d)"
tools/reference/setup_pyldl.sh
# PyLDL fit() arguments and the same settings for @ldl
LIGHT='{"AA_BP": [{"epochs": 200}, {"epochs": 200}],
        "CPNN": [{"epochs": 100}, {"epochs": 100}], "BCPNN": [{"epochs": 100}, {"epochs": 100}],
        "ACPNN": [{"epochs": 100}, {"epochs": 100}], "Duo_LDL": [{"epochs": 200}, {"epochs": 200}],
        "LDL_SCL": [{"epochs": 300}, {"epochs": 300}],
        "SA_IIS": [{"max_iterations": 20}, {"maxIterations": 20}], "LALOT": [{"max_iterations": 20}, {"maxIterations": 20}]}'
# Methods whose parity was not met when the fixture was made, with why (the test lists them as skipped).
KNOWN='{"LALOT": "Chebyshev .136 against PyLDL'"'"'s .128 ± .007 (the other five within): 20 iterations at learning rate 1e-4 keep both near their random starts (uniform in [0, 1)); from the same start the two agree to 5e-10", "CPNN": "Canberra .843 against PyLDL'"'"'s .833 ± .005 (the other five within): three random starts per side after 100 RProp epochs; from the same start the two agree to 1e-6 (checked on a synthetic set)", "AA_BP": "not within PyLDL'"'"'s spread on Clark, KL, Cosine, Intersection (@ldl .823, .272, .802, .709; PyLDL .737 ± .082, .215 ± .037, .830 ± .027, .745 ± .033): SGD 1e-3 on the MSE barely moves the network from its Glorot start, so both sides score their random starts (from the same start the two agree to 1e-7 after 300 epochs, checked on a synthetic set; PyLDL'"'"'s folds range .633-.833 on Clark)"}'
ALGORITHMS="${ALGORITHMS:-all}"
pnpm ldl cv --data "$data" --folds 3 --algorithm aa-knn --no-progress --save-folds "$tmp/folds.json" >/dev/null
fit_kwargs="$(python3 -c 'import json,sys; print(json.dumps({k: v[0] for k, v in json.loads(sys.argv[1]).items()}))' "$LIGHT")"
tools/reference/.venv/bin/python tools/reference/ldl_cv_reference.py --folds "$tmp/folds.json" \
  --algorithms "$ALGORITHMS" --fit-kwargs "$fit_kwargs" --json "$tmp/pyldl.json"
python3 - "$tmp/folds.json" "$tmp/pyldl.json" "$LIGHT" "$out" "$KNOWN" <<'PY'
import json, sys
folds, py, light, out = json.load(open(sys.argv[1])), json.load(open(sys.argv[2])), json.loads(sys.argv[3]), sys.argv[4]
known = json.loads(sys.argv[5])
r = lambda d: {k: round(v, 6) for k, v in d.items()}
json.dump({
    "made": "bash tools/reference/make_parity_fixture.sh: python-ldl 0.1.2 (Keras 3 on torch, CPU), "
            "tools/reference/ldl_cv_reference.py on the folds of `ldl cv --folds 3` (seed 0), random_state = fold",
    "data": "SJAFFE.mat", "folds": 3, "seed": 0,
    "testIndices": [f["test"] for f in folds["folds"]],
    "params": {k: {"ldl": v[1], "pyldlFit": v[0]} for k, v in light.items()},
    "known": known,
    "results": {k: {"mean": r(v["mean"]), "std": r(v["std"]), "seconds": round(v["seconds"], 2),
                    "cpuSeconds": round(v["cpu_seconds"], 2)} for k, v in py.items()},
}, open(out, "w"), indent=1)
open(out, "a").write("\n")
PY
echo "wrote $out"
