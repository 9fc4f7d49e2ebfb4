package localnet

import (
	"go/ast"
	"go/parser"
	"go/token"
	"strconv"
	"testing"

	"github.com/vigil-validator/vigil/bittensor/subtensor"
	"github.com/vigil-validator/vigil/internal/localnet/meta"
)

func TestFailedUnknownError(t *testing.T) {
	ev := &eventLog{md: meta.Decoded()}
	if err := ev.failed(subtensor.Pallet, "NoSuchError"); err == nil || len(ev.records) != 0 {
		t.Fatalf("unknown error: %v, %d records", err, len(ev.records))
	}
	if err := ev.failed("NoSuchPallet", "CallFiltered"); err == nil || len(ev.records) != 0 {
		t.Fatalf("unknown pallet: %v, %d records", err, len(ev.records))
	}
	if err := ev.failed(subtensor.Pallet, "SettingWeightsTooFast"); err != nil || len(ev.records) != 1 {
		t.Fatalf("known error: %v, %d records", err, len(ev.records))
	}
}

// TestDispatchErrorNames holds every error name the dispatcher returns
// (its string-literal returns) against the runtime's metadata, so that a
// misspelt name fails here rather than when a block includes the call.
func TestDispatchErrorNames(t *testing.T) {
	f, err := parser.ParseFile(token.NewFileSet(), "dispatch.go", nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	names := map[string]bool{}
	ast.Inspect(f, func(n ast.Node) bool {
		r, ok := n.(*ast.ReturnStmt)
		if !ok || len(r.Results) != 1 {
			return true
		}
		if lit, ok := r.Results[0].(*ast.BasicLit); ok && lit.Kind == token.STRING {
			if s, _ := strconv.Unquote(lit.Value); s != "" {
				names[s] = true
			}
		}
		return true
	})
	if len(names) < 20 {
		t.Fatalf("found only %d error names in dispatch.go", len(names))
	}
	for name := range names {
		if _, _, err := meta.ErrorIndex(subtensor.Pallet, name); err != nil {
			t.Error(err)
		}
	}
	if _, _, err := meta.ErrorIndex("System", "CallFiltered"); err != nil {
		t.Error(err)
	}
}
