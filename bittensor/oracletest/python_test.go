package oracletest

import (
	"path/filepath"
	"runtime"
	"testing"
)

// skipOrFailTB records how a helper gave up.
type skipOrFailTB struct {
	testing.TB
	skipped, failed bool
}

func (f *skipOrFailTB) Helper()      {}
func (f *skipOrFailTB) Skip(...any)  { f.skipped = true; runtime.Goexit() }
func (f *skipOrFailTB) Fatal(...any) { f.failed = true; runtime.Goexit() }
func (f *skipOrFailTB) Fatalf(string, ...any) {
	f.failed = true
	runtime.Goexit()
}

func pythonWithout(t *testing.T, ci string) *skipOrFailTB {
	t.Setenv("CI", ci)
	t.Setenv("VIGIL_PYTHON", filepath.Join(t.TempDir(), "missing-python"))
	ft := &skipOrFailTB{TB: t}
	done := make(chan string)
	go func() {
		defer close(done)
		done <- Python(ft, "no_such_module_for_vigil")
	}()
	if p := <-done; p != "" {
		t.Fatalf("Python chose %q for a module nobody has", p)
	}
	return ft
}

func TestPythonSkipsOrFailsWithoutAnInterpreter(t *testing.T) {
	if ft := pythonWithout(t, ""); !ft.skipped || ft.failed {
		t.Errorf("without CI: skipped=%v failed=%v, want a skip", ft.skipped, ft.failed)
	}
	if ft := pythonWithout(t, "true"); !ft.failed || ft.skipped {
		t.Errorf("under CI=true: skipped=%v failed=%v, want a failure", ft.skipped, ft.failed)
	}
}

func TestPythonFindsTheInterpreter(t *testing.T) {
	p := Python(t, "json")
	if !imports(p, []string{"json"}) || imports(p, []string{"no_such_module_for_vigil"}) {
		t.Errorf("%s: imports() does not tell modules apart", p)
	}
}
