# Reads a GET /hotkey_workers answer on stdin the way a reference (Python)
# validator's sync task does, and prints, per row, the message it would
# verify the signature against and what it would store.
#
#   stdout: [{"message": str, "is_float": bool, "time_int": int}, ...]
import json
import sys

out = []
for row in json.loads(sys.stdin.read()):
    t = row["registration_time"]
    message = json.dumps(
        {"hotkey": row["hotkey"], "worker": row["worker"], "registration_time": t},
        sort_keys=True, separators=(",", ":"))
    # add_mapping reads an int as microseconds, a float as seconds.
    time_int = t if isinstance(t, int) else int(t * 1_000_000)
    out.append({"message": message, "is_float": isinstance(t, float), "time_int": time_int})
json.dump(out, sys.stdout)
