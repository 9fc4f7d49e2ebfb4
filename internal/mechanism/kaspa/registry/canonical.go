package registry

import "github.com/vigil-validator/vigil/bittensor/pyfmt"

// The signed messages are the bytes Python's
// json.dumps(obj, sort_keys=True, separators=(",", ":")) produces (ASCII
// output, Python float repr): what the miners' scripts sign and what the
// reference validators rebuild, so every byte must agree.

// RegistrationMessage is the message a hotkey signs to bind worker:
// {"hotkey":…,"registration_time":…,"worker":…}.
func RegistrationMessage(hotkey, worker string, registrationTime float64) []byte {
	b := make([]byte, 0, 64+len(hotkey)+len(worker))
	b = append(b, `{"hotkey":`...)
	b = AppendPyString(b, hotkey)
	b = append(b, `,"registration_time":`...)
	b = append(b, FormatPyFloat(registrationTime)...)
	b = append(b, `,"worker":`...)
	b = AppendPyString(b, worker)
	return append(b, '}')
}

// UnbindMessage is the message a hotkey signs to unbind worker:
// {"hotkey":…,"worker":…}. Its signature is also the tombstone peers pass
// on: it carries no time, so it stays valid, and applies to the one binding
// the worker name can ever have.
func UnbindMessage(hotkey, worker string) []byte {
	b := make([]byte, 0, 32+len(hotkey)+len(worker))
	b = append(b, `{"hotkey":`...)
	b = AppendPyString(b, hotkey)
	b = append(b, `,"worker":`...)
	b = AppendPyString(b, worker)
	return append(b, '}')
}

// FormatPyFloat formats f as Python's json.dumps does (pyfmt.JSONFloat).
func FormatPyFloat(f float64) string { return pyfmt.JSONFloat(f) }

// AppendPyString appends s as a JSON string the way Python's json.dumps
// does with ensure_ascii (pyfmt.AppendJSONString).
func AppendPyString(b []byte, s string) []byte { return pyfmt.AppendJSONString(b, s) }
