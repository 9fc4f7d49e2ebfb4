#!/usr/bin/env bash
# Runs every fuzz target of the decoders that face peer input for a fixed
# number of inputs (FUZZTIME, default 100000x each: a few seconds), so
# `make test` catches a decoder that panics on garbage. A count rather than a
# duration, because a duration can end the run mid-input and fail it with
# "context deadline exceeded". Longer campaigns:
# go test -run '^$' -fuzz NAME -fuzztime 10m ./pkg.
set -euo pipefail
cd "$(dirname "$0")/.."
fuzztime=${FUZZTIME:-100000x}
targets=(
  "./bittensor/scale FuzzReader"
  "./bittensor/subtensor FuzzDecodeSelectiveMetagraph"
  "./bittensor/subtensor FuzzDecodeNeuronsLite"
  "./bittensor/subtensor FuzzDecodeHyperparameters"
  "./bittensor/subtensor FuzzEncodeRoundTrip"
  "./bittensor/substrate FuzzDecodeMetadata"
  "./bittensor/substrate FuzzDecodeExtrinsic"
  "./bittensor/substrate FuzzDecodeEvents"
  "./bittensor/timelock FuzzDecrypt"
  "./bittensor/keys FuzzSS58Decode"
  "./bittensor/wallet FuzzKeyfile"
  "./internal/localnet FuzzSubmit"
  "./internal/mechanism/kaspa/registry FuzzRegisterRequest"
  "./internal/mechanism/kaspa/registry FuzzPeerRow"
  "./internal/kaspasim FuzzDecodeAddress"
  "./bittensor/synapse FuzzFromHeaders"
  "./bittensor/axon FuzzServe"
  "./bittensor/pyfmt FuzzStrRawJSON"
  "./internal/computeproto FuzzDecodeHeartbeat"
  "./internal/computeproto FuzzDecodeCommitment"
  "./internal/computeproto FuzzDecodeProof"
  "./internal/computeproto FuzzDecodeWSMessage"
  "./internal/securesession FuzzOpen"
  "./internal/challenge FuzzVerifyProof"
  "./internal/compute FuzzReadFrame"
  "./internal/compute FuzzWorkFrom"
  "./internal/console FuzzRequest 5000x"
)
for t in "${targets[@]}"; do
  # A third field is the target's own count (one that serves whole pages
  # runs slower), unless FUZZTIME is given.
  read -r pkg name own <<<"$t"
  ft=$fuzztime
  if [[ -n "${own:-}" && -z "${FUZZTIME:-}" ]]; then ft=$own; fi
  echo "fuzz $pkg $name ($ft)"
  go test -run '^$' -fuzz "^${name}\$" -fuzztime "$ft" -fuzzminimizetime 1s "$pkg" >/tmp/vigil-fuzz.$$.log 2>&1 || {
    cat /tmp/vigil-fuzz.$$.log; rm -f /tmp/vigil-fuzz.$$.log; exit 1; }
done
rm -f /tmp/vigil-fuzz.$$.log
