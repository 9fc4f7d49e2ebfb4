#!/usr/bin/env python3
"""Independent cross-check of vigil's CPU matrix challenge (internal/challenge).

The reference generates the challenge with NumPy's legacy RandomState and
multiplies in NumPy int64; this script does the same with NumPy itself, so
the matrices, products and hashes are NumPy's, not vigil's. The Merkle tree
follows the reference's rules (leaves are the row-hash strings, a parent is
hex SHA-256 of left+right, an odd last node pairs with itself, a proof
direction is true when the sibling is on the right), written here apart
from vigil's Go code.

Reads a JSON list of requests on stdin, writes a JSON list of answers.
  {"op": "stream", "seed": HEX, "count": K}
      -> {"uint32": [first K outputs of RandomState(uint32_be(seed[0:4]))]}
  {"op": "size", "seed": HEX, "base": B, "variance": V}
      -> {"size": N}
  {"op": "gpu_size", "seed": HEX, "base": B, "variance": V}
      -> {"size": N} (the GPU challenge's rule)
  {"op": "gpu", "seed": HEX, "uuid": S, "size": N, "iterations": K,
   "cells": [[r, c]...]} -> {"seed_hash": "<decimal>", "cells": [...]}
  {"op": "fp16", "values": [...]} -> {"bits", "numpy_bits", "hash"}
  {"op": "sign", "scalar": "<decimal>", "message": S}
      -> {"public_key": HEX, "signature": HEX of r||s}
  {"op": "cpu", "seed": HEX, "size": N, "iterations": K, "proofs": [i...],
   "full": bool}
      -> {"a": [...], "b": [...] (row-major, when full), "c_rows":
          {"i": [...]} for the proof rows, "row_hashes": [...],
          "merkle_root": ..., "proofs": {"i": {"leaf_index", "leaf_hash",
          "proof_hashes", "proof_directions"}}}
"""

import hashlib
import json
import struct
import sys

import numpy as np


def seed_int(seed_hex):
    return int.from_bytes(bytes.fromhex(seed_hex)[:4], "big")


def size(seed_hex, base, variance):
    lo = max(100, int(base * (1 - variance)))
    hi = min(10000, int(base * (1 + variance)))
    if lo >= hi:
        return base
    return int(np.random.RandomState(seed_int(seed_hex)).randint(lo, hi + 1))


def matrices(seed_hex, n):
    rs = np.random.RandomState(seed_int(seed_hex))
    a = rs.randint(-500, 501, size=(n, n), dtype=np.int64)
    b = rs.randint(-500, 501, size=(n, n), dtype=np.int64)
    return a, b


def product(a, b, iterations):
    # NumPy's int64 dot wraps around on overflow, as the reference relies on.
    with np.errstate(over="ignore"):
        c = np.dot(a, b)
        for _ in range(iterations - 1):
            c = np.dot(c, b)
    return c


def row_hash(row):
    return hashlib.sha256(row.astype("<i8").tobytes()).hexdigest()[:16]


def parent(left, right):
    return hashlib.sha256((left + right).encode()).hexdigest()


def merkle_levels(leaves):
    levels = [list(leaves)]
    while len(levels[-1]) > 1:
        cur = levels[-1]
        nxt = []
        for i in range(0, len(cur), 2):
            left = cur[i]
            right = cur[i + 1] if i + 1 < len(cur) else cur[i]
            nxt.append(parent(left, right))
        levels.append(nxt)
    return levels


def merkle_proof(levels, index):
    hashes, dirs = [], []
    idx = index
    for level in levels[:-1]:
        if idx % 2 == 0:
            sib = level[idx + 1] if idx + 1 < len(level) else level[idx]
            hashes.append(sib)
            dirs.append(True)
        else:
            hashes.append(level[idx - 1])
            dirs.append(False)
        idx //= 2
    return {"leaf_index": index, "leaf_hash": levels[0][index], "proof_hashes": hashes, "proof_directions": dirs}


def seed_hash(seed_hex, uuid):
    return int.from_bytes(hashlib.sha256((seed_hex + "|" + uuid).encode()).digest()[:8], "little")


def element(sh, i, j, which):
    # The verifier's generator, on Python integers reduced where it says.
    e = (sh ^ (i << 32) ^ (j << 16) ^ which) & 0xFFFFFFFFFFFFFFFF
    h = (e ^ (e >> 32)) & 0xFFFFFFFF
    h = (h * 0x9E3779B9 + 0x85EBCA6B) % 2**32
    h ^= h >> 16
    h = (h * 0x85EBCA6B) % 2**32
    return (h & 0xFFFF) / 32768.0 - 1.0


def fp16_hash(values):
    h = 0xCBF29CE484222325
    bits = []
    for v in values:
        (b,) = struct.unpack("<H", struct.pack("<e", v))
        bits.append(b)
        h ^= b
        h = (h * 0x100000001B3) % 2**64
    return bits, "%016x" % h


def answer(req):
    op = req["op"]
    if op == "gpu":
        sh = seed_hash(req["seed"], req["uuid"])
        n, k = req["size"], req["iterations"]
        out = {"seed_hash": str(sh), "cells": []}
        for r, c in req["cells"]:
            a_row = np.array([element(sh, r, x, 0) for x in range(n)], dtype=np.float64)
            b_col = np.array([element(sh, x, c, 1) for x in range(n)], dtype=np.float64)
            out["cells"].append(float(np.dot(a_row, b_col)) * k)
        return out
    if op == "sign":
        # ECDSA P-256 over SHA-256, as the GPU binary signs commitments,
        # with a key derived from the given scalar; raw r||s in hex.
        from cryptography.hazmat.primitives import hashes, serialization
        from cryptography.hazmat.primitives.asymmetric import ec
        from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature

        key = ec.derive_private_key(int(req["scalar"]), ec.SECP256R1())
        der = key.sign(req["message"].encode(), ec.ECDSA(hashes.SHA256()))
        r, s_ = decode_dss_signature(der)
        pub = key.public_key().public_bytes(serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint)
        return {"public_key": pub.hex(), "signature": r.to_bytes(32, "big").hex() + s_.to_bytes(32, "big").hex()}
    if op == "fp16":
        bits, h = fp16_hash(req["values"])
        np_bits = [int(x) for x in np.array(req["values"], dtype=np.float64).astype(np.float16).view(np.uint16)]
        return {"bits": bits, "numpy_bits": np_bits, "hash": h}
    if op == "stream":
        rs = np.random.RandomState(seed_int(req["seed"]))
        return {"uint32": [int(x) for x in rs.randint(0, 2**32, size=req["count"], dtype=np.uint32)]}
    if op == "size":
        return {"size": size(req["seed"], req["base"], req["variance"])}
    if op == "gpu_size":
        # The reference's GPU challenge: no clamping beyond max(1, ...).
        base, v = req["base"], req["variance"]
        rs = np.random.RandomState(seed_int(req["seed"]))
        return {"size": int(rs.randint(max(1, int(base * (1 - v))), int(base * (1 + v)) + 1))}
    if op == "cpu":
        n, k = req["size"], req["iterations"]
        a, b = matrices(req["seed"], n)
        c = product(a, b, k)
        hashes = [row_hash(c[i]) for i in range(n)]
        levels = merkle_levels(hashes)
        out = {
            "row_hashes": hashes,
            "merkle_root": levels[-1][0],
            "c_rows": {str(i): [int(x) for x in c[i]] for i in req.get("proofs", [])},
            "proofs": {str(i): merkle_proof(levels, i) for i in req.get("proofs", [])},
        }
        if req.get("full"):
            out["a"] = [int(x) for x in a.ravel()]
            out["b"] = [int(x) for x in b.ravel()]
        return out
    raise ValueError("unknown op %r" % op)


def main():
    reqs = json.load(sys.stdin)
    json.dump([answer(r) for r in reqs], sys.stdout)


if __name__ == "__main__":
    main()
