#!/usr/bin/env python3
"""Transcription of the reference compute validator's weight cycle.

Written from the reference's formulas (worker_performance_ranker.py,
weight_manager.py) as the specification describes them, apart from vigil's
Go code, to hold vigil's scoring to them on a table of scenarios.

A request may instead name a reference validator's SQLite database
instead of holding its rows, {"db": path, "now": unix, "config": {...},
"metagraph": [...]}, and the rows are read from its tables as the
reference's models define them.

Reads a JSON list of scenarios on stdin, writes a JSON list of answers:
  {"now": unix, "config": {...}, "challenges": [...], "heartbeats": [...],
   "gpu_inventory": [...], "workers": [...], "miners": [...],
   "metagraph": [hotkey, ...]}
  -> {"miners": {hotkey: {"challenge_norm", "lease", "score", "weight",
      "availability"}}, "uids": [...], "u16": [...],
      "workers": {"hotkey_worker": {"perf", "avail", "successes", "avg_t"}}}
"""

import datetime
import json
import math
import sqlite3
import sys


def live(rows):
    return [r for r in rows or [] if not r.get("deleted")]


def availability(s, hotkey, worker_id, hb_by_worker, hb_by_hotkey, required, start):
    records = [r for r in hb_by_worker.get((hotkey, worker_id), []) if r["created_at"] >= start]
    if not records:
        return 0.0
    expected = s["config"]["availability_hours"] * 12
    if not required:
        online = {int(r["created_at"] // 300) for r in records}
    else:
        union = {}
        for r in hb_by_hotkey.get(hotkey, []):
            if r["created_at"] < start:
                continue
            union.setdefault(int(r["created_at"] // 300), set()).update(r.get("gpu_uuids") or [])
        online = {b for b, u in union.items() if required <= u}
    ratio = min(1.0, len(online) / expected)
    changes, last = 0, None
    for r in sorted(records, key=lambda r: r["created_at"]):
        ip = r.get("public_ip")
        if not ip:
            continue
        if last is not None and ip != last:
            changes += 1
        last = ip
    factor = 0.5 ** changes
    if factor < 0.1:
        return 0.0
    return ratio * factor


def score(s):
    c = s["config"]
    now = s["now"]
    window = c["ranking_window_minutes"]
    start = now - window * 60
    max_possible = window * 60 / c["challenge_interval"]
    baseline = max_possible * c["participation_rate_threshold"]
    avail_start = now - c["availability_hours"] * 3600

    challenges = [ch for ch in live(s["challenges"]) if ch["status"] == "verified" and ch["created_at"] >= start]
    owner = {}
    for g in s["gpu_inventory"] or []:
        if g["last_seen"] >= start:
            owner[g["uuid"]] = g["hotkey"]

    per_worker = {}
    required = {}
    for ch in sorted(challenges, key=lambda ch: -ch["created_at"]):
        key = (ch["hotkey"], ch["worker_id"])
        uuids = [u for u in ch.get("gpu_uuids") or [] if u != "-1"]
        if ch.get("verification_result"):
            required.setdefault(key, set()).update(uuids)
        if any(owner.get(u) != ch["hotkey"] for u in uuids):
            continue
        if ch.get("is_success") and ch.get("verification_result") and ch.get("computation_time_ms") is not None:
            t = ch["computation_time_ms"] / max(ch.get("success_count") or 0, 1)
            per_worker.setdefault(key, []).append(t)

    hbs = live(s["heartbeats"])
    hb_by_worker, hb_by_hotkey = {}, {}
    for r in hbs:
        hb_by_worker.setdefault((r["hotkey"], r["worker_id"]), []).append(r)
        hb_by_hotkey.setdefault(r["hotkey"], []).append(r)

    workers_out = {}
    perf_by_hotkey = {}
    for key in sorted(per_worker):
        times = per_worker[key]
        successes = len(times)
        total = 0.0
        for t in times:  # newest first
            total += t
        avg_t = total / successes
        base = 1.0 / avg_t if avg_t > 0 and math.isfinite(avg_t) else 0.0
        part = min(1.0, successes / baseline) if baseline > 0 else 1.0
        avail = availability(s, key[0], key[1], hb_by_worker, hb_by_hotkey, required.get(key, set()), avail_start)
        perf = base * part * avail
        workers_out["%s_%s" % key] = {"perf": perf, "avail": avail, "successes": successes, "avg_t": avg_t}
        perf_by_hotkey.setdefault(key[0], []).append(perf)

    raw = {}
    for hk in sorted(perf_by_hotkey):
        top = sorted(perf_by_hotkey[hk], reverse=True)[: c["cap"]]
        total = 0.0
        for p in top:
            total += p
        raw[hk] = total
    max_raw = max(raw.values()) if raw else 0.0
    norm = {hk: (min(1.0, max(0.0, raw[hk] / max_raw)) if max_raw > 0 else 0.0) for hk in raw}

    metagraph = s["metagraph"]
    miners = {m["hotkey"]: m for m in s["miners"] or [] if m["hotkey"] in metagraph}
    active = sorted(miners)
    total = 0.0
    for hk in active:
        total += norm.get(hk, 0.0)
    avg_norm = total / len(active) if active else 0.0

    leases = {}
    for hk in active:
        rows = sorted([w for w in live(s["workers"]) if w["hotkey"] == hk], key=lambda w: -w["lease_score"])[:100]
        lsum = 0.0
        for w in rows:
            lsum += w["lease_score"]
        leases[hk] = min(1.0, lsum / len(rows)) if rows and lsum > 0 else 0.0

    out = {}
    scores = {}
    for hk in active:
        lease = leases[hk]
        own = norm.get(hk, 0.0)
        challenge = avg_norm if lease > 0 else own
        if not miners[hk]["is_online"] or (lease <= 0 and challenge <= 0):
            sc = 0.0
        else:
            sc = c["score_weights"]["challenge"] * challenge + c["score_weights"]["lease"] * lease
        scores[hk] = sc
        out[hk] = {"challenge_norm": own, "lease": lease, "score": sc}
    total = 0.0
    for hk in active:
        total += scores[hk]
    if total <= 0:
        weights = {hk: 1.0 / len(active) for hk in active} if active else {}
    else:
        weights = {hk: min(1.0, max(0.0, scores[hk] / total)) for hk in active}
        total = 0.0
        for hk in active:
            total += weights[hk]
        weights = {hk: weights[hk] / total for hk in active}
    for hk in active:
        out[hk]["weight"] = weights[hk]

    # Submission: ascending hotkey order, an offline miner at 0, then
    # convert_weights_and_uids_for_emit.
    uids, vals = [], []
    for hk in active:
        uids.append(metagraph.index(hk))
        vals.append(weights[hk] if miners[hk]["is_online"] else 0.0)
    u16_uids, u16 = [], []
    if vals and max(vals) > 0:
        mx = max(vals)
        for uid, v in zip(uids, vals):
            x = round(v / mx * 65535)  # Python's round: half to even
            if x > 0:
                u16_uids.append(uid)
                u16.append(x)
    return {"miners": out, "workers": workers_out, "uids": u16_uids, "u16": u16}


def naive_utc(v):
    if v is None:
        return None
    return datetime.datetime.fromisoformat(v).replace(tzinfo=datetime.timezone.utc).timestamp()


def nvml_uuids(raw):
    out = []
    for g in json.loads(raw) if raw else []:
        for k in ("uuid", "gpu_uuid", "id"):
            v = g.get(k)
            if isinstance(v, str) and v:
                out.append(v)
                break
    return out


def from_db(req):
    con = sqlite3.connect("file:%s?mode=ro" % req["db"], uri=True)
    q = lambda sql: con.execute(sql).fetchall()
    s = {"now": req["now"], "config": req["config"], "metagraph": req["metagraph"]}
    s["challenges"] = [
        {"hotkey": hk, "worker_id": w, "created_at": naive_utc(c), "status": st, "is_success": bool(ok),
         "verification_result": bool(vr), "computation_time_ms": ms, "success_count": n,
         "gpu_uuids": list(json.loads(mc).keys()) if mc else [], "deleted": d is not None}
        for hk, w, c, st, ok, vr, ms, n, mc, d in q(
            "SELECT hotkey, worker_id, created_at, challenge_status, is_success, verification_result,"
            " computation_time_ms, success_count, merkle_commitments, deleted_at FROM compute_challenges")]
    s["heartbeats"] = [
        {"hotkey": hk, "worker_id": w, "created_at": naive_utc(c), "public_ip": ip, "gpu_uuids": nvml_uuids(g),
         "deleted": d is not None}
        for hk, w, c, ip, g, d in q(
            "SELECT hotkey, worker_id, created_at, public_ip, gpu_utilization, deleted_at FROM heartbeat_records ORDER BY id")]
    s["gpu_inventory"] = [
        {"uuid": u, "hotkey": hk, "last_seen": naive_utc(seen)}
        for u, hk, seen in q("SELECT gpu_uuid, hotkey, last_seen_at FROM gpu_inventory"
                             " WHERE deleted_at IS NULL AND last_seen_at IS NOT NULL")]
    s["workers"] = [
        {"hotkey": hk, "worker_id": w, "lease_score": ls or 0.0, "deleted": d is not None}
        for hk, w, ls, d in q("SELECT hotkey, worker_id, lease_score, deleted_at FROM worker_info")]
    s["miners"] = [
        {"hotkey": hk, "is_online": bool(on)}
        for hk, on in q("SELECT hotkey, is_online FROM miner_info WHERE deleted_at IS NULL")]
    con.close()
    return s


def main():
    reqs = [from_db(r) if "db" in r else r for r in json.load(sys.stdin)]
    json.dump([score(s) for s in reqs], sys.stdout)


if __name__ == "__main__":
    main()
