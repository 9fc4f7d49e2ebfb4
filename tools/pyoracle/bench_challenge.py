#!/usr/bin/env python3
"""The reference's way through the compute subnet's four hot paths, timed.

What vigil's `vigil challenge bench` measures, done as the reference
validator and worker do it, with NumPy and the Merkle rules of
challenge.py (this directory):
  cpu_verify_ms   regenerate A and B from the seed, compute the whole
                  n = 2000 product in NumPy int64 (the reference verifier
                  does), hash the 50 requested rows
  cpu_compute_ms  the worker: the same product, every row hash, the tree
  gpu_verify_ms   one n = 32768 GPU proof: 25 cells and 2 rows x 33 secret
                  columns from A rows and B columns made with vectorised
                  NumPy (the reference's best case), the pure-Python
                  FNV-1a over binary16 of both rows, and their two proofs
  merkle_ms       the levels over 32768 row hashes
Prints one JSON object with those keys (milliseconds), and "numpy".
The product is computed once and timed once: both CPU figures include it.
"""

import hashlib
import json
import struct
import sys
import time

import numpy as np

from challenge import matrices, merkle_levels, merkle_proof, row_hash, seed_hash


def ms(t0):
    return (time.perf_counter() - t0) * 1000.0


def gen(sh, i, j, which):
    e = np.uint64(sh) ^ (i.astype(np.uint64) << np.uint64(32)) ^ (j.astype(np.uint64) << np.uint64(16)) ^ np.uint64(which)
    h = (e ^ (e >> np.uint64(32))) & np.uint64(0xFFFFFFFF)
    h = (h * np.uint64(0x9E3779B9) + np.uint64(0x85EBCA6B)) & np.uint64(0xFFFFFFFF)
    h ^= h >> np.uint64(16)
    h = (h * np.uint64(0x85EBCA6B)) & np.uint64(0xFFFFFFFF)
    return (h & np.uint64(0xFFFF)).astype(np.float64) / 32768.0 - 1.0


def fnv_fp16(values):
    h = 0xCBF29CE484222325
    for v in values:
        (b,) = struct.unpack("<H", struct.pack("<e", v))
        h ^= b
        h = (h * 0x100000001B3) % 2**64
    return "%016x" % h


def fold(proof, root):
    cur = proof["leaf_hash"]
    for sib, right in zip(proof["proof_hashes"], proof["proof_directions"]):
        pair = cur + sib if right else sib + cur
        cur = hashlib.sha256(pair.encode()).hexdigest()
    return cur == root


def main():
    seed = "00112233445566778899aabbccddeeff"
    n = 2000
    t0 = time.perf_counter()
    a, b = matrices(seed, n)
    c = np.dot(a, b)
    product = ms(t0)
    t0 = time.perf_counter()
    for r in range(0, n, n // 50):
        row_hash(c[r])
    verify = product + ms(t0)
    t0 = time.perf_counter()
    merkle_levels([row_hash(c[r]) for r in range(n)])
    compute = product + ms(t0)

    g = 32768
    sh = seed_hash(seed, "GPU-bench")
    ks = np.arange(g)
    cells = [(i * 1000 % g, (i * 7919 + 11) % g) for i in range(25)]
    cols = [(i * 997 + 5) % g for i in range(33)]
    rows = [7, g - 3]
    row_values = [np.zeros(g) for _ in rows]
    leaves = ["%016x" % (i * 0x9E3779B97F4A7C15 % 2**64) for i in range(g)]
    levels = merkle_levels(leaves)
    proofs = [merkle_proof(levels, r) for r in rows]
    t0 = time.perf_counter()
    for r, col in cells:
        float(np.dot(gen(sh, np.full(g, r), ks, 0), gen(sh, ks, np.full(g, col), 1)))
    for r in rows:
        a_row = gen(sh, np.full(g, r), ks, 0)
        for col in cols:
            float(np.dot(a_row, gen(sh, ks, np.full(g, col), 1)))
    for vals in row_values:
        fnv_fp16(vals.tolist())
    for p in proofs:
        fold(p, levels[-1][0])
    gpu = ms(t0)

    t0 = time.perf_counter()
    merkle_levels(leaves)
    merkle = ms(t0)
    json.dump({"cpu_verify_ms": verify, "cpu_compute_ms": compute, "gpu_verify_ms": gpu, "merkle_ms": merkle,
               "numpy": np.__version__}, sys.stdout)
    print()


if __name__ == "__main__":
    main()
