package demo

import (
	"fmt"
	"strings"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/vigil-validator/vigil/internal/console/browsertest"
)

// checkConsole opens the validator's web console in the browser while the
// demo runs: each page must load without a console error (a script, a
// blocked style, a failed load), the plots and the heat-map must be drawn
// from the demo's data, and a compute miner's page must be reachable from
// the overview by a click. It returns what is wrong.
func checkConsole(br *browsertest.Browser, base string) []string {
	var problems []string
	for _, p := range []struct {
		name, path, svg string
		atLeast         int
	}{
		{"overview", "", "", 0},
		{"kaspa", "subnet/1", "", 0},
		{"compute", "subnet/2", "svg.heatmap rect", 5},
		{"kaspa-weights", "subnet/1/weights", "svg.chart polyline", 2},
		{"compute-weights", "subnet/2/weights", "svg.chart polyline", 2},
	} {
		var title string
		n := 0
		actions := []chromedp.Action{chromedp.Navigate(base + p.path), chromedp.WaitVisible("main h1", chromedp.ByQuery),
			chromedp.Text("main h1", &title, chromedp.ByQuery)}
		if p.svg != "" {
			actions = append(actions, browsertest.Count(p.svg, &n))
		}
		actions = append(actions, browsertest.Shot("console-"+p.name))
		if err := br.Run(30*time.Second, actions...); err != nil {
			problems = append(problems, fmt.Sprintf("%s: %v", p.name, err))
			continue
		}
		if title == "" {
			problems = append(problems, p.name+": no title")
		}
		if n < p.atLeast {
			problems = append(problems, fmt.Sprintf("%s: %d of %q drawn, want %d or more", p.name, n, p.svg, p.atLeast))
		}
		for _, is := range br.Issues() {
			problems = append(problems, p.name+": "+is)
		}
	}
	// From the overview to a compute miner's page, by its link.
	var title string
	workers, plots := 0, 0
	err := br.Run(30*time.Second, chromedp.Navigate(base), chromedp.WaitVisible("main h1", chromedp.ByQuery),
		chromedp.Click(`#subnet-2 a[href^="/ui/subnet/2/miner/"]`, chromedp.ByQuery),
		chromedp.WaitVisible("#workers", chromedp.ByID), chromedp.Text("main h1", &title, chromedp.ByQuery),
		browsertest.Count("#workers tbody tr", &workers), browsertest.Count("#plot svg polyline", &plots), browsertest.Shot("console-miner"))
	switch {
	case err != nil:
		problems = append(problems, "overview to a miner: "+err.Error())
	case !strings.Contains(title, "miner 5"):
		problems = append(problems, fmt.Sprintf("the overview's miner link led to %q", title))
	case workers == 0 || plots == 0:
		problems = append(problems, fmt.Sprintf("the miner's page has %d workers and %d plotted lines", workers, plots))
	}
	for _, is := range br.Issues() {
		problems = append(problems, "miner: "+is)
	}
	return problems
}
