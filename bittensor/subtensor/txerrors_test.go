package subtensor

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/vigil-validator/vigil/bittensor/substrate"
)

func TestExplainTxError(t *testing.T) {
	rate := &substrate.RPCError{Code: 1010, Message: "Invalid Transaction", Data: json.RawMessage(`"Custom error: 6"`)}
	err := ExplainTxError(fmt.Errorf("submitting: %w", rate))
	var pe *PoolError
	if !errors.As(err, &pe) || pe.Name != "RateLimitExceeded" || pe.Custom != 6 || !errors.Is(err, rate) {
		t.Fatalf("custom 6: %v", err)
	}
	if got := err.Error(); got != "transaction refused by the pool: RateLimitExceeded (custom error 6)" {
		t.Errorf("message %q", got)
	}
	for data, name := range map[string]string{`"Custom error: 15"`: "InvalidRevealRound", `"Custom error: 19"`: "UidNotFound", `"Custom error: 200"`: ""} {
		err := ExplainTxError(&substrate.RPCError{Code: 1010, Message: "Invalid Transaction", Data: json.RawMessage(data)})
		if !errors.As(err, &pe) || pe.Name != name {
			t.Errorf("%s: %v", data, err)
		}
	}
	stale := ExplainTxError(&substrate.RPCError{Code: 1010, Message: "Invalid Transaction", Data: json.RawMessage(`"Transaction is outdated"`)})
	if !errors.As(stale, &pe) || pe.Custom != -1 || !strings.HasPrefix(pe.Error(), "transaction refused by the pool: Invalid Transaction: Transaction is outdated (the nonce was already used") {
		t.Errorf("outdated: %v", stale)
	}
	// An expired era shows as a bad signature or an ancient birth block;
	// the error says so.
	for _, data := range []string{`"Transaction has a bad signature"`, `"Transaction has an ancient birth block"`} {
		err := ExplainTxError(&substrate.RPCError{Code: 1010, Message: "Invalid Transaction", Data: json.RawMessage(data)})
		if !errors.As(err, &pe) || !strings.Contains(err.Error(), "era has expired") {
			t.Errorf("%s: %v", data, err)
		}
	}
	other := errors.New("boom")
	if ExplainTxError(other) != other {
		t.Error("a non-pool error was changed")
	}
	if e := (&substrate.RPCError{Code: -32601, Message: "Method not found"}); ExplainTxError(e) != error(e) {
		t.Error("a non-pool RPC error was changed")
	}
}
