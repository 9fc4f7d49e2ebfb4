#!/usr/bin/env python3
"""Independent cross-check of vigil's internal/securesession.

Reads a JSON list of requests on stdin and writes a JSON list of answers,
one per request, on stdout. Each request is an object with an "op" field.
Only the standard library and the `cryptography` package are used.

Binary values travel as lowercase hex unless a field name says b64.
"""

import base64
import hashlib
import json
import sys
from collections import deque

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric.x25519 import (
    X25519PrivateKey,
    X25519PublicKey,
)
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

RAW = serialization.Encoding.Raw
RAW_PUB = serialization.PublicFormat.Raw


def x25519_pub(req):
    priv = X25519PrivateKey.from_private_bytes(bytes.fromhex(req["priv"]))
    pub = priv.public_key().public_bytes(RAW, RAW_PUB)
    return {"pub": pub.hex(), "pub_b64": base64.b64encode(pub).decode("ascii")}


def x25519_shared(req):
    priv = X25519PrivateKey.from_private_bytes(bytes.fromhex(req["priv"]))
    peer = X25519PublicKey.from_public_bytes(bytes.fromhex(req["pub"]))
    return {"shared": priv.exchange(peer).hex()}


def derive(req):
    # Layout from the protocol description: fields joined by "|", the salt
    # (both nonces) inserted raw, the suite name last.
    salt = bytes.fromhex(req["client_nonce"]) + bytes.fromhex(req["server_nonce"])
    out = {}
    for name, direction in (
        ("k_cs", b"session_key_client_to_server"),
        ("k_sc", b"session_key_server_to_client"),
    ):
        info = b"|".join(
            [
                direction,
                req["client_hotkey"].encode("utf-8"),
                req["server_hotkey"].encode("utf-8"),
                req["client_pub_b64"].encode("ascii"),
                req["server_pub_b64"].encode("ascii"),
                salt,
                b"HKDF-SHA256_AES-256-GCM_X25519",
            ]
        )
        key = HKDF(algorithm=hashes.SHA256(), length=32, salt=salt, info=info).derive(
            bytes.fromhex(req["shared"])
        )
        out[name] = key.hex()
        out["info_" + name[2:]] = info.hex()
    return out


def iv_of(session_id, seq):
    return hashlib.sha256(session_id.encode("utf-8")).digest()[:4] + seq.to_bytes(8, "big")


def aad_of(sender, recipient, synapse_type, session_id, seq):
    return f"leap-comm|{sender}|{recipient}|{synapse_type}|session_{session_id}|seq_{seq}"


def seal(req):
    sid, seq = req["session_id"], req["seq"]
    iv = iv_of(sid, seq)
    aad = aad_of(req["sender"], req["recipient"], req["synapse_type"], sid, seq)
    ct = AESGCM(bytes.fromhex(req["key"])).encrypt(
        iv, bytes.fromhex(req["plaintext"]), aad.encode("utf-8")
    )
    package = {
        "ver": "v1",
        "session_id": sid,
        "seq": seq,
        "ciphertext": base64.b64encode(ct).decode("ascii"),
        "sender": req["sender"],
        "recipient": req["recipient"],
        "synapse_type": req["synapse_type"],
    }
    return {
        "package": json.dumps(package),
        "iv": iv.hex(),
        "aad": aad,
        "ciphertext_b64": package["ciphertext"],
    }


def open_(req):
    try:
        package = json.loads(req["package"])
        if package.get("ver") != "v1":
            return {"error": "version"}
        if package["sender"] != req["sender"] or package["recipient"] != req["recipient"]:
            return {"error": "sender/recipient"}
        if package["synapse_type"] != req["synapse_type"]:
            return {"error": "synapse_type"}
        sid, seq = package["session_id"], package["seq"]
        aad = aad_of(package["sender"], package["recipient"], req["synapse_type"], sid, seq)
        pt = AESGCM(bytes.fromhex(req["key"])).decrypt(
            iv_of(sid, seq), base64.b64decode(package["ciphertext"], validate=True), aad.encode("utf-8")
        )
        return {"plaintext": pt.hex(), "seq": seq, "session_id": sid}
    except Exception as e:  # the caller compares outcomes, not exception types
        return {"error": f"{type(e).__name__}: {e}"}


def dumps(req):
    obj = json.loads(req["json"])
    kwargs = {}
    if req.get("record", True):
        kwargs = {"ensure_ascii": False, "sort_keys": True}
    return {"text": json.dumps(obj, **kwargs)}


def replay(req):
    # A plain FIFO + set replay filter following the protocol description.
    size = req.get("window", 1024)
    recv, fifo, seen, out = 0, deque(), set(), []
    for seq in req["seqs"]:
        ok = not (seq in seen or seq < max(0, recv - size + 1) or seq > recv + 2 * size)
        if ok:
            recv = max(recv, seq)
            if len(fifo) == size:
                seen.discard(fifo.popleft())
            fifo.append(seq)
            seen.add(seq)
        out.append(ok)
    return {"accepted": out}


OPS = {
    "x25519_pub": x25519_pub,
    "x25519_shared": x25519_shared,
    "derive": derive,
    "seal": seal,
    "open": open_,
    "dumps": dumps,
    "replay": replay,
}


def main():
    reqs = json.load(sys.stdin)
    answers = []
    for req in reqs:
        op = OPS.get(req.get("op"))
        if op is None:
            raise SystemExit(f"unknown op {req.get('op')!r}")
        answers.append(op(req))
    json.dump(answers, sys.stdout)


if __name__ == "__main__":
    main()
