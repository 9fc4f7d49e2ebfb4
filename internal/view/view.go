// Package view is what the operator's console shows, as data: a page is
// facts, tables, charts and heat-maps, which the console draws as HTML and
// SVG and serves as JSON for scripts. Mechanisms build their pages from it
// without knowing how they are drawn.
package view

import (
	"cmp"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Page is one page of the console.
type Page struct {
	Title    string    `json:"title"`
	Sections []Section `json:"sections"`
}

// Section is a titled part of a page: any of facts, a table, a chart and
// a heat-map, in that order.
type Section struct {
	ID      string   `json:"id"`
	Title   string   `json:"title"`
	Note    string   `json:"note,omitempty"`
	Facts   []Fact   `json:"facts,omitempty"`
	Table   *Table   `json:"table,omitempty"`
	Chart   *Chart   `json:"chart,omitempty"`
	Heatmap *Heatmap `json:"heatmap,omitempty"`
}

// Fact is a named value; Bad marks one the operator should act on.
type Fact struct {
	Name  string `json:"name"`
	Value string `json:"value"`
	Link  string `json:"link,omitempty"`
	Bad   bool   `json:"bad,omitempty"`
}

// Table is rows under named columns.
type Table struct {
	Columns []Column `json:"columns"`
	Rows    [][]Cell `json:"rows"`
}

// Column is a table's column: Key names it in a sort link.
type Column struct {
	Key     string `json:"key"`
	Title   string `json:"title"`
	Numeric bool   `json:"numeric,omitempty"`
}

// Cell is a table cell: the text shown and, for numbers, the value it
// sorts by (scripts read it too).
type Cell struct {
	Text  string   `json:"text"`
	Value *float64 `json:"value,omitempty"`
	Link  string   `json:"link,omitempty"`
}

// YesNo is a flag as a page shows it.
func YesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}

// Text is a cell of text.
func Text(s string) Cell { return Cell{Text: s} }

// Link is a cell of text linking to href.
func Link(s, href string) Cell { return Cell{Text: s, Link: href} }

// Num is a numeric cell shown with prec decimals (-1: as short as exact).
func Num(v float64, prec int) Cell {
	return Cell{Text: strconv.FormatFloat(v, 'f', prec, 64), Value: &v}
}

// Int is an integer cell.
func Int(v int64) Cell {
	f := float64(v)
	return Cell{Text: strconv.FormatInt(v, 10), Value: &f}
}

// Time is a cell of a time (UTC, to the second) sorting by its instant;
// the zero time is an empty cell.
func Time(t time.Time) Cell {
	if t.IsZero() {
		return Cell{}
	}
	f := float64(t.UnixMilli())
	return Cell{Text: t.UTC().Format("2006-01-02 15:04:05"), Value: &f}
}

// Sort orders the rows by the column named key, descending when desc;
// numbers by value, text by text, ties keeping their order. It reports
// whether the table has that column.
func (t *Table) Sort(key string, desc bool) bool {
	i := slices.IndexFunc(t.Columns, func(c Column) bool { return c.Key == key })
	if i < 0 {
		return false
	}
	slices.SortStableFunc(t.Rows, func(a, b []Cell) int {
		var c int
		switch x, y := a[i], b[i]; {
		case x.Value != nil && y.Value != nil:
			c = cmp.Compare(*x.Value, *y.Value)
		case x.Value != nil:
			c = 1 // empty cells first when ascending
		case y.Value != nil:
			c = -1
		default:
			c = cmp.Compare(x.Text, y.Text)
		}
		if desc {
			return -c
		}
		return c
	})
	return true
}

// Chart is series of points over a common x axis (a block number, or a
// unix time).
type Chart struct {
	XLabel string   `json:"x_label"`
	YLabel string   `json:"y_label"`
	Series []Series `json:"series"`
	// XMin and XMax fix the x axis (so that charts drawn one above the
	// other line up) when XMax > XMin; else it spans the points.
	XMin float64 `json:"x_min,omitempty"`
	XMax float64 `json:"x_max,omitempty"`
}

// Series is one named line.
type Series struct {
	Name   string       `json:"name"`
	Points [][2]float64 `json:"points"`
}

// Heatmap is rows of cells over time: Start is the first column's start,
// each column Step long; a cell's value is in [0, 1] (the share of the
// column the row was up), or negative for no data.
type Heatmap struct {
	Start time.Time     `json:"start"`
	Step  time.Duration `json:"step_ns"`
	Rows  []HeatRow     `json:"rows"`
}

// HeatRow is one labelled row of a heat-map.
type HeatRow struct {
	Label  string    `json:"label"`
	Link   string    `json:"link,omitempty"`
	Values []float64 `json:"values"`
}

// Endpoint is an endpoint's address as a page may show it: its scheme and
// host, without the user, password, path or query, which can hold a
// provider's key.
func Endpoint(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" {
		if strings.ContainsAny(raw, "/@?") {
			return "(not shown)"
		}
		return raw // a name such as finney
	}
	out := u.Scheme + "://" + u.Host
	if u.User != nil || (u.Path != "" && u.Path != "/") || u.RawQuery != "" {
		out += "/…"
	}
	return out
}
