# Answers, from Python itself, the bytes the registry's signed messages must
# have: json.dumps(obj, sort_keys=True, separators=(",", ":")), as the
# reference validator and the miners' scripts build them. The Go test
# (canonical_test.go) runs it with cases on stdin and compares.
#
#   stdin:  [{"hotkey": str, "worker": str, "time": "<16 hex digits: IEEE-754 bits, big-endian>"}, ...]
#   stdout: [{"register": str, "unbind": str, "float": str, "string": str}, ...]
import json
import struct
import sys


def canonical(obj):
    return json.dumps(obj, sort_keys=True, separators=(",", ":"))


out = []
for case in json.load(sys.stdin):
    t = struct.unpack(">d", bytes.fromhex(case["time"]))[0]
    out.append({
        "register": canonical({"worker": case["worker"], "registration_time": t, "hotkey": case["hotkey"]}),
        "unbind": canonical({"worker": case["worker"], "hotkey": case["hotkey"]}),
        "float": json.dumps(t),
        "string": json.dumps(case["worker"]),
    })
json.dump(out, sys.stdout)
