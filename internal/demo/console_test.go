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
// from the demo's data, and a miner's page of each subnet must be
// reachable from the overview by a click. It returns what is wrong.
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
	// From the overview to a miner's page of each subnet, by its link.
	for _, s := range []struct {
		netuid int
		shot   string
	}{{2, "console-miner"}, {1, "console-kaspa-miner"}} {
		var title string
		workers, plots := 0, 0
		err := br.Run(30*time.Second, chromedp.Navigate(base), chromedp.WaitVisible("main h1", chromedp.ByQuery),
			chromedp.Click(fmt.Sprintf(`#subnet-%d a[href^="/ui/subnet/%d/miner/"]`, s.netuid, s.netuid), chromedp.ByQuery),
			chromedp.WaitVisible("#workers", chromedp.ByID), chromedp.Text("main h1", &title, chromedp.ByQuery),
			browsertest.Count("#workers tbody tr", &workers), browsertest.Count("#plot svg polyline", &plots), browsertest.Shot(s.shot))
		switch {
		case err != nil:
			problems = append(problems, fmt.Sprintf("overview to a subnet %d miner: %v", s.netuid, err))
		case !strings.Contains(title, "miner 5"):
			problems = append(problems, fmt.Sprintf("the overview's subnet %d miner link led to %q", s.netuid, title))
		case workers == 0 || plots == 0:
			problems = append(problems, fmt.Sprintf("subnet %d: the miner's page has %d workers and %d plotted lines", s.netuid, workers, plots))
		}
		for _, is := range br.Issues() {
			problems = append(problems, fmt.Sprintf("subnet %d miner: %s", s.netuid, is))
		}
	}
	return problems
}
