package console

import (
	"bytes"
	"embed"
	"encoding/json"
	"fmt"
	"html/template"
	"math"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/vigil-validator/vigil/internal/console/view"
)

//go:embed assets/page.html assets/console.css
var assets embed.FS

var pageTmpl = template.Must(template.ParseFS(assets, "assets/page.html"))

// staticHandler serves the stylesheet.
func staticHandler() http.Handler {
	css, _ := assets.ReadFile("assets/console.css")
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

type navItem struct {
	Netuid uint16
	Name   string
	Here   bool
}

type header struct {
	Title, Href, Arrow string
	Numeric            bool
}

type renderedSection struct {
	view.Section
	SVG       template.HTML
	TableHTML template.HTML
}

// render draws a page as HTML: its charts and heat-maps as inline SVG,
// each table's headers as links that sort it (so a sorted table has an
// address of its own).
func (c *Console) render(w http.ResponseWriter, r *http.Request, p *view.Page, netuid int) {
	q := r.URL.Query()
	sortKey, desc := q.Get("sort"), q.Get("dir") == "desc"
	data := struct {
		Page     *view.Page
		Sections []renderedSection
		Nav      []navItem
		Netuid   int
		JSON     string
		Built    string
		Version  string
	}{Page: p, Netuid: netuid, Version: c.opts.Version, Built: c.opts.Clock.Now().UTC().Format(time.RFC3339)}
	for _, n := range c.order {
		data.Nav = append(data.Nav, navItem{Netuid: n, Name: c.subnets[n].Mechanism.Name(), Here: int(n) == netuid})
	}
	api := url.URL{Path: "/ui/api/" + strings.TrimPrefix(r.URL.Path, "/ui/"), RawQuery: r.URL.RawQuery}
	data.JSON = api.String()
	for _, s := range p.Sections {
		rs := renderedSection{Section: s}
		switch {
		case s.Chart != nil:
			rs.SVG = chartSVG(s.Chart)
		case s.Heatmap != nil:
			rs.SVG = heatmapSVG(s.Heatmap)
		}
		if s.Table != nil {
			var headers []header
			for _, col := range s.Table.Columns {
				key := s.ID + "." + col.Key
				h := header{Title: col.Title, Numeric: col.Numeric}
				dir := "asc"
				if col.Numeric {
					dir = "desc" // numbers read largest first
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
				headers = append(headers, h)
			}
			rs.TableHTML = tableHTML(s.Table, headers)
		}
		data.Sections = append(data.Sections, rs)
	}
	var buf bytes.Buffer
	if err := pageTmpl.Execute(&buf, data); err != nil {
		http.Error(w, "render: "+err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	_, _ = w.Write(buf.Bytes())
}

// tableHTML writes a table directly: a page of a large subnet has
// thousands of cells, which a template range draws several times slower.
func tableHTML(t *view.Table, headers []header) template.HTML {
	var b strings.Builder
	b.Grow(64 * len(t.Rows) * len(t.Columns))
	b.WriteString("<table>\n<thead><tr>")
	for _, h := range headers {
		if h.Numeric {
			b.WriteString(`<th class="num">`)
		} else {
			b.WriteString(`<th>`)
		}
		b.WriteString(`<a href="`)
		b.WriteString(template.HTMLEscapeString(h.Href))
		b.WriteString(`">`)
		b.WriteString(template.HTMLEscapeString(h.Title))
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
			if c.Link != "" {
				b.WriteString(`<a href="`)
				b.WriteString(template.HTMLEscapeString(c.Link))
				b.WriteString(`">`)
				b.WriteString(template.HTMLEscapeString(c.Text))
				b.WriteString("</a>")
			} else {
				b.WriteString(template.HTMLEscapeString(c.Text))
			}
			b.WriteString("</td>")
		}
		b.WriteString("</tr>\n")
	}
	b.WriteString("</tbody>\n</table>")
	return template.HTML(b.String())
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
func chartSVG(c *view.Chart) template.HTML {
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
	var b strings.Builder
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" class="chart" width="%d" height="%d" viewBox="0 0 %d %d" role="img" aria-label="%s">`,
		chartW, h, chartW, h, template.HTMLEscapeString(c.YLabel))
	x0, x1, y0, y1 := float64(padL), float64(chartW-padR), float64(chartH-padB), float64(padT)
	fmt.Fprintf(&b, `<rect x="%g" y="%g" width="%g" height="%g" fill="#fbfcfd" stroke="#d9dee3"/>`, x0, y1, x1-x0, y0-y1)
	if n == 0 {
		fmt.Fprintf(&b, `<text x="%g" y="%g" text-anchor="middle">no data yet</text></svg>`, (x0+x1)/2, (y0+y1)/2)
		return template.HTML(b.String())
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
		fmt.Fprintf(&b, `<line x1="%g" y1="%.1f" x2="%g" y2="%.1f" stroke="#eceff2"/><text x="%g" y="%.1f" text-anchor="end">%s</text>`,
			x0, y, x1, y, x0-4, y+4, fmtAxis(v))
	}
	fmt.Fprintf(&b, `<text x="%g" y="%g">%s</text><text x="%g" y="%g" text-anchor="end">%s</text>`,
		x0, y0+14, fmtAxis(minX), x1, y0+14, fmtAxis(maxX))
	fmt.Fprintf(&b, `<text x="%g" y="%g" text-anchor="middle">%s</text>`, (x0+x1)/2, y0+28, template.HTMLEscapeString(c.XLabel))
	for i, s := range c.Series {
		col := palette[i%len(palette)]
		if len(s.Points) == 1 {
			p := s.Points[0]
			fmt.Fprintf(&b, `<circle cx="%.1f" cy="%.1f" r="3" fill="%s"/>`, sx(p[0]), sy(p[1]), col)
		} else if len(s.Points) > 1 {
			fmt.Fprintf(&b, `<polyline fill="none" stroke="%s" stroke-width="1.6" points="`, col)
			for _, p := range s.Points {
				fmt.Fprintf(&b, "%.1f,%.1f ", sx(p[0]), sy(p[1]))
			}
			b.WriteString(`"/>`)
		}
		lx, ly := x0+float64(i%4)*200, float64(chartH+4+18*(i/4))
		fmt.Fprintf(&b, `<rect x="%g" y="%g" width="12" height="4" fill="%s"/><text x="%g" y="%g">%s</text>`,
			lx, ly+4, col, lx+16, ly+9, template.HTMLEscapeString(s.Name))
	}
	b.WriteString(`</svg>`)
	return template.HTML(b.String())
}

// heatmapSVG draws a heat-map: a row per label, a column per step, each
// cell shaded by its value (grey where there is no data).
func heatmapSVG(hm *view.Heatmap) template.HTML {
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
	var b strings.Builder
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" class="heatmap" width="%d" height="%d" viewBox="0 0 %d %d" role="img" aria-label="availability">`, w, h, w, h)
	for i, r := range hm.Rows {
		y := i * rowH
		label := r.Label
		if len(label) > 22 {
			label = label[:21] + "…"
		}
		if r.Link != "" {
			fmt.Fprintf(&b, `<a href="%s"><text x="0" y="%d">%s</text></a>`, template.HTMLEscapeString(r.Link), y+10, template.HTMLEscapeString(label))
		} else {
			fmt.Fprintf(&b, `<text x="0" y="%d">%s</text>`, y+10, template.HTMLEscapeString(label))
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
	fmt.Fprintf(&b, `<text x="%d" y="%d">%s</text>`, labelW, y, hm.Start.UTC().Format("2006-01-02 15:04"))
	end := hm.Start.Add(time.Duration(cols) * hm.Step)
	fmt.Fprintf(&b, `<text x="%d" y="%d" text-anchor="end">%s UTC (a column per %s)</text>`, w-4, y, end.UTC().Format("2006-01-02 15:04"), hm.Step)
	b.WriteString(`</svg>`)
	return template.HTML(b.String())
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
