#!/usr/bin/env bash
# Runs every fuzz target of the decoders that face peer input for a short
# time (FUZZTIME, default 5s each), so `make test` catches a decoder that
# panics on garbage. Longer campaigns: go test -run '^$' -fuzz NAME ./pkg.
set -euo pipefail
cd "$(dirname "$0")/.."
fuzztime=${FUZZTIME:-5s}
targets=(
  "./bittensor/scale FuzzReader"
  "./bittensor/subtensor FuzzDecodeSelectiveMetagraph"
  "./bittensor/subtensor FuzzDecodeNeuronsLite"
  "./bittensor/subtensor FuzzDecodeHyperparameters"
  "./bittensor/substrate FuzzDecodeMetadata"
)
for t in "${targets[@]}"; do
  read -r pkg name <<<"$t"
  echo "fuzz $pkg $name ($fuzztime)"
  go test -run '^$' -fuzz "^${name}\$" -fuzztime "$fuzztime" -fuzzminimizetime 1s "$pkg" >/tmp/vigil-fuzz.$$.log 2>&1 || {
    cat /tmp/vigil-fuzz.$$.log; rm -f /tmp/vigil-fuzz.$$.log; exit 1; }
done
rm -f /tmp/vigil-fuzz.$$.log
