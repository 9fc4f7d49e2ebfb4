package console_test

import (
	"os"
	"os/exec"
	"slices"
	"strings"
	"testing"
)

// TestBinaryKeepsItsSize guards the console's cost in the binary (0.4 MB):
// text/template, which html/template is built on, calls methods by
// reflection, so linking it keeps every exported method of the program,
// about 3 MB more. The console writes its HTML itself.
func TestBinaryKeepsItsSize(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", "github.com/vigil-validator/vigil/cmd/vigil").Output()
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("go list: %v", err)
		}
		t.Skipf("go list: %v", err)
	}
	deps := strings.Fields(string(out))
	if !slices.Contains(deps, "github.com/vigil-validator/vigil/internal/console") {
		t.Fatal("vigil does not link the console: the check below would prove nothing")
	}
	for _, p := range []string{"text/template", "html/template", "github.com/chromedp/chromedp"} {
		if slices.Contains(deps, p) {
			t.Errorf("vigil links %s", p)
		}
	}
}
