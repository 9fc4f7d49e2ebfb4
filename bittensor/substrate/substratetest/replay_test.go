package substratetest_test

import (
	"context"
	"encoding/json"
	"errors"
	"testing"
	"time"

	"github.com/vigil-validator/vigil/bittensor/substrate"
	"github.com/vigil-validator/vigil/bittensor/substrate/substratetest"
)

func TestReplayNodeAnswersRecordedCalls(t *testing.T) {
	node := substratetest.RecordedNode(t, "get_current_block")
	c, err := substrate.Dial(context.Background(), substrate.Options{URL: node.URL(), CallTimeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	var hdr struct {
		Number string `json:"number"`
	}
	if err := c.Call(context.Background(), "chain_getHeader", []any{nil}, &hdr); err != nil {
		t.Fatal(err)
	}
	if n, err := substrate.HexNumber(hdr.Number); err != nil || n == 0 {
		t.Fatalf("recorded header number %q: %v", hdr.Number, err)
	}
	var re *substrate.RPCError
	if err := c.Call(context.Background(), "system_unknownMethod", nil, nil); !errors.As(err, &re) || re.Code != -32601 {
		t.Errorf("unrecorded call: %v", err)
	}
	if node.Calls("chain_getHeader") != 1 {
		t.Errorf("calls = %d", node.Calls("chain_getHeader"))
	}
	var raw json.RawMessage
	node.DropConnections()
	if err := c.CallIdempotent(context.Background(), "chain_getHeader", []any{nil}, &raw); err != nil {
		t.Errorf("call after the node dropped the socket: %v", err)
	}
}
