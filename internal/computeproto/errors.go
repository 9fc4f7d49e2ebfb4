package computeproto

import (
	"errors"
	"strconv"
)

// Errors for input that is not a well-formed document at all.
var (
	ErrPayloadTooLarge = errors.New("computeproto: payload too large")
	ErrInvalidJSON     = errors.New("computeproto: invalid JSON")
)

// ValidationError reports a well-formed document whose content breaks a
// rule. Field is the path from the payload root, e.g.
// "workers[3].system_info.gpu_plugin[0].uuid"; it is empty for the root.
type ValidationError struct {
	Field  string
	Reason string
}

func (e *ValidationError) Error() string {
	if e.Field == "" {
		return "computeproto: " + e.Reason
	}
	return "computeproto: " + e.Field + ": " + e.Reason
}

func invalid(field, reason string) error {
	return &ValidationError{Field: field, Reason: reason}
}

// within adds a parent path to a ValidationError; other errors pass as is.
func within(parent string, err error) error {
	var ve *ValidationError
	if err == nil || !errors.As(err, &ve) {
		return err
	}
	return &ValidationError{Field: joinPath(parent, ve.Field), Reason: ve.Reason}
}

func joinPath(parent, child string) string {
	switch {
	case child == "":
		return parent
	case parent == "":
		return child
	case child[0] == '[':
		return parent + child
	}
	return parent + "." + child
}

func index(i int) string { return "[" + strconv.Itoa(i) + "]" }

func tooMany(n, limit int) string {
	return "too many items (" + strconv.Itoa(n) + " > " + strconv.Itoa(limit) + ")"
}
