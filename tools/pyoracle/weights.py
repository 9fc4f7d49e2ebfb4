#!/usr/bin/env python3
"""Independent cross-check of vigil's weight processing (bittensor/subtensor).

The Bittensor SDK turns a validator's scores into the u16 vector it submits
with NumPy: float32 arrays, NumPy's pairwise sums, np.quantile, and NumPy 2's
promotion rules (NEP 50: a Python int or float next to a float32 stays
float32). This script runs the same steps with NumPy itself, so the answer's
arithmetic is NumPy's, not vigil's.

Reads a JSON list of requests on stdin and writes a JSON list of answers.
Each request: {"uids": [...], "weights": [...], "n": N, "min_allowed": M,
"limit": L, "quantile": Q}, with L the max weight limit as a fraction and Q
the exclusion quantile in u16 units. Each answer: {"uids", "weights" (the
processed vector, as Python floats), "emit_uids", "emit_weights" (the u16
vector), "numpy"}.

NumPy 2 semantics on an older NumPy (Debian 12 ships 1.24):
  * NEP 50 promotion, through np._set_promotion_state("weak");
  * np.quantile takes a Python-float q in the array's dtype, and keeps the
    interpolation weight in that dtype (numpy/lib/_function_base_impl.py,
    quantile and _get_gamma in NumPy 2): q is passed as the array's dtype
    and _get_gamma is given NumPy 2's dtype rule.
On NumPy 2 neither adjustment is made.
"""

import json
import sys

import numpy as np

U16_MAX = 65535
NUMPY2 = int(np.__version__.split(".")[0]) >= 2

if not NUMPY2:
    np._set_promotion_state("weak")
    from numpy.lib import function_base as _fb

    _gamma_v1 = _fb._get_gamma

    def _gamma_v2(virtual_indexes, previous_indexes, method):
        g = _gamma_v1(virtual_indexes, previous_indexes, method)
        return np.asanyarray(g, dtype=virtual_indexes.dtype)

    _fb._get_gamma = _gamma_v2


def quantile(a, q):
    if not NUMPY2:
        q = a.dtype.type(q)
    return np.quantile(a, q)


def clip_to_limit(x, limit):
    """Scale x to sum 1 with no entry above limit, clipping the largest."""
    eps = 1e-7
    w = x.copy()
    srt = np.sort(w)
    size = x.shape[0]
    if x.sum() == 0 or size * limit <= 1:
        return np.ones_like(x) / size
    share = srt / srt.sum()
    if share.max() <= limit:
        return w / w.sum()
    running = np.cumsum(share, 0)
    rest = np.array([(size - k - 1) * share[k] for k in range(size)])
    kept = (share / (rest + running + eps) < limit).sum()
    scale = (limit * running[kept - 1] - eps) / (1 - (limit * (size - kept)))
    cap = scale * srt.sum()
    w[w > cap] = cap
    return w / w.sum()


def process(uids, weights, n, min_allowed, limit, exclude):
    weights = weights.astype(np.float32)
    q = exclude / U16_MAX
    idx = np.argwhere(weights > 0).squeeze(axis=1)
    nz_uids, nz = uids[idx], weights[idx]
    if nz.size == 0 or n < min_allowed:
        return np.arange(n), np.ones(n, dtype=np.int64) / n
    if nz.size < min_allowed:
        w = np.ones(n, dtype=np.int64) * 1e-5
        w[idx] += nz
        out = clip_to_limit(w, limit)
        return np.arange(len(out)), out
    most = max(0, len(nz) - min_allowed) / len(nz)
    low = quantile(nz, min([q, most]))
    keep = low <= nz
    return nz_uids[keep], clip_to_limit(nz[keep], limit)


def emit(uids, weights):
    """The u16 vector: largest weight 65535, rounded half to even, zeros dropped."""
    ws, us = weights.tolist(), uids.tolist()
    if sum(ws) == 0:
        return [], []
    top = float(max(ws))
    out_u, out_w = [], []
    for w, u in zip(ws, us):
        v = round(float(w) / top * int(U16_MAX))
        if v != 0:
            out_u.append(u)
            out_w.append(v)
    return out_u, out_w


def answer(req):
    uids = np.array(req["uids"], dtype=np.int64)
    weights = np.array(req["weights"], dtype=np.float64)
    u, w = process(uids, weights, req["n"], req["min_allowed"], req["limit"], req["quantile"])
    eu, ew = emit(u, w)
    return {
        "uids": [int(x) for x in u.tolist()],
        "weights": [float(x) for x in w.tolist()],
        "emit_uids": [int(x) for x in eu],
        "emit_weights": ew,
        "numpy": np.__version__,
    }


def main():
    reqs = json.load(sys.stdin)
    json.dump([answer(r) for r in reqs], sys.stdout)


if __name__ == "__main__":
    main()
