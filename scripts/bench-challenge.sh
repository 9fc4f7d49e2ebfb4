#!/usr/bin/env bash
# bench-challenge.sh - the compute subnet's four hot paths, vigil beside the
# reference's way (NumPy, tools/pyoracle/bench_challenge.py), on this
# machine, with the ratios. The NumPy side computes the whole n = 2000 int64
# product as the reference does: expect it to take a minute or so.
#
# Usage: scripts/bench-challenge.sh
set -euo pipefail
cd "$(dirname "$0")/.."

go build -o bin/vigil ./cmd/vigil
vigil_json=$(bin/vigil challenge bench --json)

python=$(scripts/python-deps.sh)
if [ -z "$python" ]; then
	echo "bench-challenge: no python3 with numpy; vigil's figures alone:" >&2
	echo "$vigil_json"
	exit 0
fi
numpy_json=$(cd tools/pyoracle && "$python" bench_challenge.py)

"$python" - "$vigil_json" "$numpy_json" <<'PY'
import json, sys
v, n = json.loads(sys.argv[1]), json.loads(sys.argv[2])
rows = [
    ("cpu_verify_ms", "CPU verification, n=2000, 50 rows", "50"),
    ("cpu_compute_ms", "CPU challenge computed, n=2000", "2000"),
    ("gpu_verify_ms", "GPU proof verified, n=32768", "5"),
    ("merkle_ms", "Merkle root, 32768 leaves", "6"),
]
print("%-36s %12s %14s %9s %8s" % ("", "vigil (ms)", "NumPy %s (ms)" % n["numpy"], "ratio", "target"))
for key, label, target in rows:
    print("%-36s %12.2f %14.1f %8.0fx %8s" % (label, v[key], n[key], n[key] / v[key], "<=" + target))
PY
