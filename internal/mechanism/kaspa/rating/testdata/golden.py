# Regenerates golden.json: random scenarios scored in Python, with CPython's
# own float, exp and round, by the rating formula as the SN16 validator
# computes it (per-worker share-rate and difficulty penalties, per-hotkey
# mean uptime, 8-digit rounding), so that the Go implementation is checked
# bit for bit against another runtime, operation order included.
#
#   python3 testdata/golden.py > testdata/golden.json
import json
import math
import random


def rate_all(metrics, alpha, window_seconds, max_difficulty, shares_per_minute):
    allowed = window_seconds / 60.0 * shares_per_minute

    def pen_diff(d):
        if d > max_difficulty:
            return math.exp(-(d - max_difficulty) / max_difficulty)
        return 1.0

    def work_of(ms):
        work = 0.0
        for m in ms:
            n = m["valid_shares"]
            if n > allowed:
                share_penalty = math.exp(-(n - allowed) / allowed)
            else:
                share_penalty = 1.0
            work += n * min(m["difficulty"], max_difficulty) * pen_diff(m["difficulty"]) * share_penalty
        return work

    def avg_uptime(ms):
        if not ms:
            return 0.0
        us = [max(0.0, min(m["uptime_seconds"], window_seconds)) / window_seconds for m in ms]
        us = [max(0.0, min(1.0, u)) for u in us]
        return sum(us) / len(us)

    work = {h: work_of(ms) for h, ms in metrics.items()}
    max_work = max(work.values(), default=1.0)
    out = {}
    for h, ms in metrics.items():
        norm = 0.0 if max_work == 0 else work[h] / max_work
        out[h] = round(max(0.0, min(1.0, norm * (avg_uptime(ms) ** alpha))), 8)
    return out


def main():
    rng = random.Random(16)
    cases = []
    for _ in range(100):
        alpha = rng.choice([0.0, 1.0, 2.0, 1.5, 0.5])
        window = rng.choice([3600, 3600, 600, 7200])
        max_difficulty = rng.choice([16384.0, 16384.0, 4096.0])
        spm = rng.choice([20, 20, 10])
        metrics = {}
        for h in range(rng.randint(1, 6)):
            ms = []
            for w in range(rng.randint(0, 4)):
                ms.append({
                    "valid_shares": rng.choice([0, rng.randint(1, 5000), rng.randint(1, 300)]),
                    "difficulty": rng.choice([0.0, rng.uniform(0.1, 40000.0), rng.uniform(1000.0, 20000.0)]),
                    "uptime_seconds": rng.choice([0.0, float(window), rng.uniform(-100.0, window * 1.2)]),
                })
            metrics[f"hk{h}"] = ms
        cases.append({
            "alpha": alpha, "window_seconds": window, "max_difficulty": max_difficulty,
            "shares_per_minute": spm, "metrics": metrics,
            "want": rate_all(metrics, alpha, float(window), max_difficulty, spm),
        })
    print(json.dumps(cases, indent=None, separators=(",", ":")))


main()
