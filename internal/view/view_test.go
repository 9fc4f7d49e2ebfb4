package view

import (
	"strings"
	"testing"
)

// TestTableSort: numbers by value, text by text, empty cells first when
// ascending, ties in their order.
func TestTableSort(t *testing.T) {
	tab := &Table{Columns: []Column{{Key: "n", Numeric: true}, {Key: "s"}}, Rows: [][]Cell{
		{Num(2, 0), Text("b")}, {Text(""), Text("a")}, {Num(10, 0), Text("c")}, {Num(2, 0), Text("a")}}}
	if !tab.Sort("n", false) {
		t.Fatal("no column n")
	}
	got := func() string {
		var s []string
		for _, r := range tab.Rows {
			s = append(s, r[0].Text+r[1].Text)
		}
		return strings.Join(s, " ")
	}
	if g := got(); g != "a 2b 2a 10c" {
		t.Errorf("ascending: %s (numbers by value, the empty cell first, ties stable)", g)
	}
	tab.Sort("n", true)
	if g := got(); g != "10c 2b 2a a" {
		t.Errorf("descending: %s", g)
	}
	tab.Sort("s", false)
	if g := got(); g != "2a a 2b 10c" {
		t.Errorf("by text: %s", g)
	}
	if tab.Sort("missing", false) {
		t.Error("sorted by a column it does not have")
	}
}

func TestEndpoint(t *testing.T) {
	for raw, want := range map[string]string{
		"finney": "finney", "ws://127.0.0.1:9944": "ws://127.0.0.1:9944", "wss://entrypoint-finney.opentensor.ai:443": "wss://entrypoint-finney.opentensor.ai:443",
		"wss://node.example/ws/SECRETKEY": "wss://node.example/…", "http://user:pass@prom:9090": "http://prom:9090/…",
		"http://prom:9090/?token=SECRET": "http://prom:9090/…", "not a url/SECRET": "(not shown)",
	} {
		if got := Endpoint(raw); got != want {
			t.Errorf("Endpoint(%q) = %q, want %q", raw, got, want)
		}
	}
}
