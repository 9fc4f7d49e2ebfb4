package console

import (
	_ "embed"
	"encoding/json"
	"fmt"
	"html"
	"io"
	"math"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/vigil-validator/vigil/internal/view"
)

//go:embed assets/console.css
var css []byte

// staticHandler serves the stylesheet.
func staticHandler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/ui/static/console.css" {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "text/css; charset=utf-8")
		_, _ = w.Write(css)
	})
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(v)
}

// esc is HTML's escaping of text and attribute values.
var esc = html.EscapeString

type header struct {
	Title, Href, Arrow string
	Numeric            bool
}

// render draws a page as HTML, written directly rather than through
// html/template, whose reflection keeps every exported method in the
// binary (megabytes): every text and attribute goes through esc. Charts
// and heat-maps are inline SVG; each table's headers are links that sort
// it, so a sorted table has an address of its own.
func (c *Console) render(w http.ResponseWriter, r *http.Request, p *view.Page, netuid int) {
	q := r.URL.Query()
	sortKey, desc := q.Get("sort"), q.Get("dir") == "desc"
	var b strings.Builder
	b.Grow(64 << 10)
	b.WriteString("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n" +
		"<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n<title>")
	b.WriteString(esc(p.Title))
	b.WriteString(" · vigil</title>\n<link rel=\"icon\" href=\"data:,\">\n<link rel=\"stylesheet\" href=\"/ui/static/console.css\">\n</head>\n<body>\n" +
		"<header>\n<a class=\"brand\" href=\"/ui/\">vigil</a>\n<nav>\n<a href=\"/ui/\"")
	if netuid == -1 {
		b.WriteString(` class="here"`)
	}
	b.WriteString(">overview</a>\n")
	for _, n := range c.order {
		fmt.Fprintf(&b, "<span class=\"subnet\">subnet %d · %s:\n<a href=\"/ui/subnet/%d\"", n, esc(c.subnets[n].Mechanism.Name()), n)
		if int(n) == netuid {
			b.WriteString(` class="here"`)
		}
		fmt.Fprintf(&b, ">miners</a>\n<a href=\"/ui/subnet/%d/weights\">weights</a></span>\n", n)
	}
	api := url.URL{Path: "/ui/api/" + strings.TrimPrefix(r.URL.Path, "/ui/"), RawQuery: r.URL.RawQuery}
	b.WriteString("</nav>\n<a class=\"json\" href=\"")
	b.WriteString(esc(api.String()))
	b.WriteString("\">JSON</a>\n</header>\n<main>\n<h1>")
	b.WriteString(esc(p.Title))
	b.WriteString("</h1>\n")
	for _, s := range p.Sections {
		b.WriteString(`<section id="`)
		b.WriteString(esc(s.ID))
		b.WriteString("\">\n<h2>")
		b.WriteString(esc(s.Title))
		b.WriteString("</h2>\n")
		if s.Note != "" {
			b.WriteString(`<p class="note">`)
			b.WriteString(esc(s.Note))
			b.WriteString("</p>\n")
		}
		if len(s.Facts) > 0 {
			b.WriteString("<dl>")
			for _, f := range s.Facts {
				if f.Bad {
					b.WriteString(`<div class="bad">`)
				} else {
					b.WriteString("<div>")
				}
				b.WriteString("<dt>")
				b.WriteString(esc(f.Name))
				b.WriteString("</dt><dd>")
				writeText(&b, f.Value, f.Link)
				b.WriteString("</dd></div>")
			}
			b.WriteString("</dl>\n")
		}
		switch {
		case s.Chart != nil:
			b.WriteString("<figure>")
			writeChart(&b, s.Chart)
			b.WriteString("</figure>\n")
		case s.Heatmap != nil:
			b.WriteString("<figure>")
			writeHeatmap(&b, s.Heatmap)
			b.WriteString("</figure>\n")
		}
		if s.Table != nil {
			if len(s.Table.Rows) == 0 {
				b.WriteString("<p class=\"empty\">nothing yet</p>\n")
			} else {
				writeTable(&b, s.Table, headers(s, sortKey, desc))
			}
		}
		b.WriteString("</section>\n")
	}
	b.WriteString("</main>\n<footer>read-only · built ")
	b.WriteString(c.opts.Clock.Now().UTC().Format(time.RFC3339))
	b.WriteString(" · vigil ")
	b.WriteString(esc(c.opts.Version))
	b.WriteString("</footer>\n</body>\n</html>\n")
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	_, _ = io.WriteString(w, b.String())
}

// headers are a table's column headers, each linking to the table sorted
// by it: numbers largest first, text in order, the sorted one reversed.
func headers(s view.Section, sortKey string, desc bool) []header {
	var out []header
	for _, col := range s.Table.Columns {
		key := s.ID + "." + col.Key
		h := header{Title: col.Title, Numeric: col.Numeric}
		dir := "asc"
		if col.Numeric {
			dir = "desc"
		}
		if key == sortKey {
			if desc {
				h.Arrow, dir = " ▼", "asc"
			} else {
				h.Arrow, dir = " ▲", "desc"
			}
		}
		v := url.Values{"sort": {key}, "dir": {dir}}
		h.Href = "?" + v.Encode() + "#" + s.ID
		out = append(out, h)
	}
	return out
}

// writeText writes text, as a link to href when there is one. A link to a
// miner's page reads as its hotkey in short, whole on hover (the JSON has
// it whole).
func writeText(b *strings.Builder, text, href string) {
	if href == "" {
		b.WriteString(esc(text))
		return
	}
	b.WriteString(`<a href="`)
	b.WriteString(esc(href))
	if strings.Contains(href, "/miner/") && len(text) > 20 {
		b.WriteString(`" title="`)
		b.WriteString(esc(text))
		text = text[:8] + "…" + text[len(text)-6:]
	}
	b.WriteString(`">`)
	b.WriteString(esc(text))
	b.WriteString("</a>")
}

// writeTable writes a table's HTML.
func writeTable(b *strings.Builder, t *view.Table, headers []header) {
	b.WriteString("<table>\n<thead><tr>")
	for _, h := range headers {
		if h.Numeric {
			b.WriteString(`<th class="num">`)
		} else {
			b.WriteString(`<th>`)
		}
		b.WriteString(`<a href="`)
		b.WriteString(esc(h.Href))
		b.WriteString(`">`)
		b.WriteString(esc(h.Title))
		b.WriteString(h.Arrow)
		b.WriteString("</a></th>")
	}
	b.WriteString("</tr></thead>\n<tbody>")
	for _, row := range t.Rows {
		b.WriteString("<tr>")
		for _, c := range row {
			if c.Value != nil {
				b.WriteString(`<td class="num">`)
			} else {
				b.WriteString("<td>")
			}
			writeText(b, c.Text, c.Link)
			b.WriteString("</td>")
		}
		b.WriteString("</tr>\n")
	}
	b.WriteString("</tbody>\n</table>\n")
}

// palette are the series' colours, distinguishable and colour-blind safe.
var palette = []string{"#0072b2", "#e69f00", "#009e73", "#cc79a7", "#56b4e9", "#d55e00", "#f0e442", "#000000"}

const (
	chartW, chartH = 880, 260
	padL, padR     = 56, 16
	padT, padB     = 12, 36
)

func fmtAxis(v float64) string {
	switch a := math.Abs(v); {
	case a == 0:
		return "0"
	case v == math.Trunc(v) && a < 1e15:
		return strconv.FormatFloat(v, 'f', 0, 64)
	case a >= 1e6 || a < 1e-3:
		return strconv.FormatFloat(v, 'g', 3, 64)
	case a >= 100:
		return strconv.FormatFloat(v, 'f', 0, 64)
	default:
		return strconv.FormatFloat(v, 'f', 3, 64)
	}
}

// chartSVG draws a line chart: one polyline per series over shared axes,
// with the range of each axis and a legend.
func writeChart(b *strings.Builder, c *view.Chart) {
	minX, maxX, maxY := math.Inf(1), math.Inf(-1), 0.0
	n := 0
	for _, s := range c.Series {
		for _, p := range s.Points {
			minX, maxX, maxY = min(minX, p[0]), max(maxX, p[0]), max(maxY, p[1])
			n++
		}
	}
	legendRows := (len(c.Series) + 3) / 4
	h := chartH + 18*legendRows
	fmt.Fprintf(b, `<svg xmlns="http://www.w3.org/2000/svg" class="chart" width="%d" height="%d" viewBox="0 0 %d %d" role="img" aria-label="%s">`,
		chartW, h, chartW, h, esc(c.YLabel))
	x0, x1, y0, y1 := float64(padL), float64(chartW-padR), float64(chartH-padB), float64(padT)
	fmt.Fprintf(b, `<rect x="%g" y="%g" width="%g" height="%g" fill="#fbfcfd" stroke="#d9dee3"/>`, x0, y1, x1-x0, y0-y1)
	if n == 0 {
		fmt.Fprintf(b, `<text x="%g" y="%g" text-anchor="middle">no data yet</text></svg>`, (x0+x1)/2, (y0+y1)/2)
		return
	}
	if c.XMax > c.XMin {
		minX, maxX = c.XMin, c.XMax
	}
	if maxX == minX {
		minX, maxX = minX-1, maxX+1
	}
	if maxY <= 0 {
		maxY = 1
	}
	sx := func(v float64) float64 { return x0 + (v-minX)/(maxX-minX)*(x1-x0) }
	sy := func(v float64) float64 { return y0 - v/maxY*(y0-y1) }
	for i := 0; i <= 4; i++ {
		v := maxY * float64(i) / 4
		y := sy(v)
		fmt.Fprintf(b, `<line x1="%g" y1="%.1f" x2="%g" y2="%.1f" stroke="#eceff2"/><text x="%g" y="%.1f" text-anchor="end">%s</text>`,
			x0, y, x1, y, x0-4, y+4, fmtAxis(v))
	}
	fmt.Fprintf(b, `<text x="%g" y="%g">%s</text><text x="%g" y="%g" text-anchor="end">%s</text>`,
		x0, y0+14, fmtAxis(minX), x1, y0+14, fmtAxis(maxX))
	fmt.Fprintf(b, `<text x="%g" y="%g" text-anchor="middle">%s</text>`, (x0+x1)/2, y0+28, esc(c.XLabel))
	for i, s := range c.Series {
		col := palette[i%len(palette)]
		if len(s.Points) == 1 {
			p := s.Points[0]
			fmt.Fprintf(b, `<circle cx="%.1f" cy="%.1f" r="3" fill="%s"/>`, sx(p[0]), sy(p[1]), col)
		} else if len(s.Points) > 1 {
			fmt.Fprintf(b, `<polyline fill="none" stroke="%s" stroke-width="1.6" points="`, col)
			for _, p := range s.Points {
				fmt.Fprintf(b, "%.1f,%.1f ", sx(p[0]), sy(p[1]))
			}
			b.WriteString(`"/>`)
		}
		lx, ly := x0+float64(i%4)*200, float64(chartH+4+18*(i/4))
		fmt.Fprintf(b, `<rect x="%g" y="%g" width="12" height="4" fill="%s"/><text x="%g" y="%g">%s</text>`,
			lx, ly+4, col, lx+16, ly+9, esc(s.Name))
	}
	b.WriteString(`</svg>`)
}

// heatmapSVG draws a heat-map: a row per label, a column per step, each
// cell shaded by its value (grey where there is no data).
func writeHeatmap(b *strings.Builder, hm *view.Heatmap) {
	cols := 0
	for _, r := range hm.Rows {
		cols = max(cols, len(r.Values))
	}
	const labelW, rowH, maxW = 150, 12, 860
	cellW := 4.0
	if cols > 0 {
		cellW = max(1, math.Floor(float64(maxW-labelW)/float64(cols)))
	}
	w := labelW + int(cellW)*max(cols, 1) + 4
	h := rowH*len(hm.Rows) + 30
	fmt.Fprintf(b, `<svg xmlns="http://www.w3.org/2000/svg" class="heatmap" width="%d" height="%d" viewBox="0 0 %d %d" role="img" aria-label="availability">`, w, h, w, h)
	for i, r := range hm.Rows {
		y := i * rowH
		label := r.Label
		if len(label) > 22 {
			label = label[:8] + "…" + label[len(label)-6:]
		}
		if r.Link != "" {
			fmt.Fprintf(b, `<a href="%s"><text x="0" y="%d">%s</text></a>`, esc(r.Link), y+10, esc(label))
		} else {
			fmt.Fprintf(b, `<text x="0" y="%d">%s</text>`, y+10, esc(label))
		}
		// Runs of one shade are one rectangle.
		for j := 0; j < len(r.Values); {
			k := j + 1
			for k < len(r.Values) && shade(r.Values[k]) == shade(r.Values[j]) {
				k++
			}
			b.WriteString(`<rect x="`)
			b.WriteString(strconv.FormatFloat(float64(labelW)+float64(j)*cellW, 'f', -1, 64))
			b.WriteString(`" y="`)
			b.WriteString(strconv.Itoa(y + 1))
			b.WriteString(`" width="`)
			b.WriteString(strconv.FormatFloat(float64(k-j)*cellW, 'f', -1, 64))
			b.WriteString(`" height="10" fill="`)
			b.WriteString(shade(r.Values[j]))
			b.WriteString(`"/>`)
			j = k
		}
	}
	y := rowH*len(hm.Rows) + 14
	fmt.Fprintf(b, `<text x="%d" y="%d">%s</text>`, labelW, y, hm.Start.UTC().Format("2006-01-02 15:04"))
	end := hm.Start.Add(time.Duration(cols) * hm.Step)
	fmt.Fprintf(b, `<text x="%d" y="%d" text-anchor="end">%s UTC (a column per %s)</text>`, w-4, y, end.UTC().Format("2006-01-02 15:04"), hm.Step)
	b.WriteString(`</svg>`)
}

// shades are white to green in tenths: steps keep runs of one shade long
// and the SVG small.
var shades = func() [11]string {
	var out [11]string
	for s := range out {
		out[s] = fmt.Sprintf("#%02x%02x%02x", int(247-float64(s)*21.2), int(247-float64(s)*8.6), int(247-float64(s)*17.4))
	}
	return out
}()

// shade is a value's colour: grey for no data, white to green for [0, 1].
func shade(v float64) string {
	if v < 0 {
		return "#e4e7ea"
	}
	return shades[int(math.Round(min(v, 1)*10))]
}
