package main

import (
	"bytes"
	"strings"
	"testing"
)

func TestReport(t *testing.T) {
	in := strings.Join([]string{
		`{"Action":"run","Package":"p","Test":"TestA"}`,
		`{"Action":"output","Package":"p","Test":"TestA/sqlite","Output":"ok\n"}`,
		`{"Action":"pass","Package":"p","Test":"TestA/sqlite"}`,
		`{"Action":"output","Package":"p","Test":"TestA/postgres","Output":"    x_test.go:9: PostgreSQL not available: set it\n"}`,
		`{"Action":"skip","Package":"p","Test":"TestA/postgres"}`,
		`{"Action":"pass","Package":"p","Test":"TestA"}`,
		`{"Action":"output","Package":"p","Test":"TestB","Output":"    b_test.go:3: want 2, got 3\n"}`,
		`{"Action":"fail","Package":"p","Test":"TestB"}`,
		`{"Action":"fail","Package":"p","Elapsed":0.5}`,
		`not json`,
	}, "\n")
	var out bytes.Buffer
	code := report(strings.NewReader(in), &out)
	got := out.String()
	for _, want := range []string{
		"--- FAIL p TestB\n    b_test.go:3: want 2, got 3\n",
		"FAIL p 0.50s",
		"not json",
		"skip p TestA/postgres: PostgreSQL not available: set it",
		"store engines: sqlite 1 passed, 0 failed, 0 skipped; postgres 0 passed, 0 failed, 1 skipped",
		"\n2 passed, 1 failed, 1 skipped\n",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("report lacks %q:\n%s", want, got)
		}
	}
	if code != 1 {
		t.Errorf("exit %d with a failure, want 1", code)
	}
	if code := report(strings.NewReader(`{"Action":"pass","Package":"p","Test":"T"}`), &out); code != 0 {
		t.Errorf("exit %d for a clean run, want 0", code)
	}
	if code := report(strings.NewReader(`{"Action":"skip","Package":"p"}`), &out); code != 1 {
		t.Errorf("exit %d when no test ran, want 1", code)
	}
	if code := report(strings.NewReader(`{"Action":"build-fail","ImportPath":"p"}`+"\n"+`{"Action":"pass","Package":"q","Test":"T"}`), &out); code != 1 {
		t.Errorf("exit %d on a build failure, want 1", code)
	}
}
