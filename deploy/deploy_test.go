// Package deploy holds what an operator deploys beside the binary: the
// Grafana dashboard and the Prometheus rules. Its tests check them with
// Prometheus's own tools.
package deploy

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/vigil-validator/vigil/internal/promserver"
)

// promtool finds Prometheus's promtool: on PATH or beside the prometheus
// binary the tests run. Without it the test is skipped, except under
// CI=true, where it fails.
func promtool(t *testing.T) string {
	t.Helper()
	if p, err := exec.LookPath("promtool"); err == nil {
		return p
	}
	if bin, err := promserver.Binary(); err == nil {
		if p := filepath.Join(filepath.Dir(bin), "promtool"); exec.Command(p, "--version").Run() == nil {
			return p
		}
	}
	msg := "promtool not found (Debian's prometheus package has it; scripts/prometheus-deps.sh installs it)"
	if os.Getenv("CI") == "true" {
		t.Fatal(msg + "; CI=true requires it")
	}
	t.Skip(msg)
	return ""
}

func runTool(t *testing.T, dir, name string, args ...string) {
	t.Helper()
	cmd := exec.Command(name, args...)
	cmd.Dir = dir
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("%s %s: %v\n%s", filepath.Base(name), strings.Join(args, " "), err, out)
	}
}

// TestPrometheusRules: the rules load, and their unit tests (alerts that
// fire and do not, the recorded failure ratio) pass.
func TestPrometheusRules(t *testing.T) {
	tool := promtool(t)
	runTool(t, "prometheus", tool, "check", "rules", "vigil-rules.yml")
	runTool(t, "prometheus", tool, "test", "rules", "vigil-rules.test.yml")
}

type panel struct {
	ID         int    `json:"id"`
	Type       string `json:"type"`
	Title      string `json:"title"`
	Datasource *struct {
		Type, UID string
	} `json:"datasource"`
	GridPos struct{ X, Y, W, H int } `json:"gridPos"`
	Targets []struct {
		RefID string `json:"refId"`
		Expr  string `json:"expr"`
	} `json:"targets"`
}

// TestGrafanaDashboard: the dashboard is import-ready (the datasource a
// variable, every panel on it, ids unique, panels inside the 24-column
// grid and not overlapping) and every panel's PromQL parses with
// Prometheus's own parser (promtool, through a rules file of them).
func TestGrafanaDashboard(t *testing.T) {
	raw, err := os.ReadFile(filepath.Join("grafana", "vigil-dashboard.json"))
	if err != nil {
		t.Fatal(err)
	}
	var d struct {
		UID           string  `json:"uid"`
		Title         string  `json:"title"`
		SchemaVersion int     `json:"schemaVersion"`
		Panels        []panel `json:"panels"`
		Templating    struct {
			List []struct {
				Name, Type string
				Query      any
			} `json:"list"`
		} `json:"templating"`
	}
	if err := json.Unmarshal(raw, &d); err != nil {
		t.Fatal(err)
	}
	if d.UID == "" || d.Title == "" || d.SchemaVersion < 36 {
		t.Errorf("uid %q title %q schemaVersion %d", d.UID, d.Title, d.SchemaVersion)
	}
	hasDS := false
	for _, v := range d.Templating.List {
		hasDS = hasDS || (v.Name == "datasource" && v.Type == "datasource" && v.Query == "prometheus")
	}
	if !hasDS {
		t.Error("no datasource variable of type prometheus")
	}
	ids := map[int]bool{}
	cells := map[[2]int]string{}
	var rules strings.Builder
	rules.WriteString("groups:\n  - name: dashboard\n    rules:\n")
	exprs := 0
	for _, p := range d.Panels {
		if ids[p.ID] {
			t.Errorf("panel id %d twice", p.ID)
		}
		ids[p.ID] = true
		g := p.GridPos
		if g.W <= 0 || g.H <= 0 || g.X < 0 || g.X+g.W > 24 {
			t.Errorf("%q: grid position %+v", p.Title, g)
		}
		for x := g.X; x < g.X+g.W; x++ {
			for y := g.Y; y < g.Y+g.H; y++ {
				if other, ok := cells[[2]int{x, y}]; ok {
					t.Fatalf("%q overlaps %q at (%d, %d)", p.Title, other, x, y)
				}
				cells[[2]int{x, y}] = p.Title
			}
		}
		if p.Type == "row" {
			continue
		}
		if p.Datasource == nil || p.Datasource.UID != "${datasource}" || len(p.Targets) == 0 {
			t.Errorf("%q: not on the datasource variable, or no query", p.Title)
		}
		for _, tg := range p.Targets {
			// Grafana's variables, as Grafana would fill them in.
			expr := strings.NewReplacer("$__rate_interval", "5m", "$__range", "6h", "$__interval", "1m", "$instance", ".*").Replace(tg.Expr)
			b, _ := json.Marshal(expr)
			rules.WriteString("      - record: dashboard:panel" + string(rune('a'+exprs%26)) + "\n        expr: " + string(b) + "\n")
			exprs++
		}
	}
	if exprs < 10 {
		t.Fatalf("only %d queries", exprs)
	}
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "dashboard-rules.yml"), []byte(rules.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	runTool(t, dir, promtool(t), "check", "rules", "dashboard-rules.yml")
}
