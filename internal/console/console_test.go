package console_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/vigil-validator/vigil/bittensor/keys"
	"github.com/vigil-validator/vigil/bittensor/subtensor"
	"github.com/vigil-validator/vigil/internal/api"
	"github.com/vigil-validator/vigil/internal/clock"

	"github.com/vigil-validator/vigil/internal/console"
	"github.com/vigil-validator/vigil/internal/console/browsertest"
	"github.com/vigil-validator/vigil/internal/mechanism"
	"github.com/vigil-validator/vigil/internal/store"
	"github.com/vigil-validator/vigil/internal/store/storetest"
	"github.com/vigil-validator/vigil/internal/validator"
	"github.com/vigil-validator/vigil/internal/view"
)

// testMech is a mechanism with a console page: a row per hotkey it knows.
// builds counts its pages built; a build takes delay.
type testMech struct {
	known  []string
	builds *atomic.Int32
	delay  time.Duration
}

func (testMech) Name() string { return "testmech" }
func (testMech) Scores(context.Context, *subtensor.Metagraph) (map[subtensor.AccountID]float64, error) {
	return nil, nil
}
func (testMech) Run(context.Context) error                            { return nil }
func (testMech) Handler() (string, http.Handler)                      { return "", nil }
func (testMech) HealthChecks() map[string]func(context.Context) error { return nil }

func (m testMech) ConsolePage(_ context.Context, req mechanism.ConsoleRequest) (*view.Page, error) {
	if m.builds != nil {
		m.builds.Add(1)
	}
	time.Sleep(m.delay)
	t := &view.Table{Columns: []view.Column{{Key: "hotkey", Title: "hotkey"}, {Key: "score", Title: "score", Numeric: true}}}
	for i, hk := range m.known {
		t.Rows = append(t.Rows, []view.Cell{view.Link(hk, req.MinerURL(hk)), view.Num(float64(i), 1)})
	}
	return &view.Page{Sections: []view.Section{{ID: "mech", Title: "Mechanism <miners>", Table: t}}}, nil
}

func (m testMech) ConsoleMiner(_ context.Context, _ mechanism.ConsoleRequest, hotkey string) (*view.Page, error) {
	for _, k := range m.known {
		if k == hotkey {
			return &view.Page{Sections: []view.Section{{ID: "mine", Title: "What the mechanism knows", Facts: []view.Fact{{Name: "hotkey", Value: k}}}}}, nil
		}
	}
	return nil, nil
}

type fixture struct {
	st      *store.Store
	mg      *subtensor.Metagraph
	hotkeys []string // of uids 0..2
	c       *console.Console
	srv     *httptest.Server
}

const netuid = 7

func newFixture(t testing.TB, listen, token string) *fixture {
	t.Helper()
	f := &fixture{st: storetest.Open(t, "sqlite", nil), mg: &subtensor.Metagraph{Netuid: netuid, Block: 100}}
	for i, uri := range []string{"//Alice", "//Bob", "//Charlie"} {
		kp, err := keys.FromURI(uri)
		if err != nil {
			t.Fatal(err)
		}
		f.hotkeys = append(f.hotkeys, kp.SS58())
		f.mg.Neurons = append(f.mg.Neurons, subtensor.Neuron{UID: uint16(i), Hotkey: subtensor.AccountID(kp.PublicKey()),
			Incentive: subtensor.Proportion(i * 20000)})
	}
	ctx := context.Background()
	// Three vectors: uid 1 takes 1/4, then 3/4, then all; one failed.
	for i, w := range []struct {
		block   uint64
		weights []uint16
		outcome store.Outcome
	}{{10, []uint16{100, 300}, store.OutcomeIncluded}, {20, []uint16{300, 100}, store.OutcomeFailed}, {30, []uint16{100, 300}, store.OutcomeIncluded}} {
		uids := []uint16{2, 1}
		if i == 2 {
			uids = []uint16{1, 2}
		}
		if err := f.st.RecordWeightSubmission(ctx, &store.WeightSubmission{Netuid: netuid, Block: w.block, Mode: store.ModeSet, UIDs: uids,
			Weights: w.weights, Outcome: w.outcome}); err != nil {
			t.Fatal(err)
		}
	}
	health := api.NewHealth(time.Second)
	health.Register("database", f.st.Health)
	var err error
	f.c, err = console.New(console.Options{Listen: listen, Token: token, Network: "local", Store: f.st, Health: health,
		Subnets: []console.Subnet{{Netuid: netuid, Mechanism: testMech{known: f.hotkeys[1:]},
			Status: func() validator.Status {
				return validator.Status{Netuid: netuid, Block: f.mg.Block, Registered: true, Permit: true, NextDue: 40}
			},
			Metagraph: func() *subtensor.Metagraph { return f.mg }}}})
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	f.c.Mount(func(p string, h http.Handler) { mux.Handle(p, h) })
	f.srv = httptest.NewServer(mux)
	t.Cleanup(f.srv.Close)
	return f
}

func (f *fixture) get(t *testing.T, path string, hdr ...string) (*http.Response, string) {
	t.Helper()
	req, _ := http.NewRequest("GET", f.srv.URL+path, nil)
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }, Timeout: 10 * time.Second}
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, string(b)
}

func (f *fixture) page(t *testing.T, path string) *view.Page {
	t.Helper()
	resp, body := f.get(t, path)
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "application/json" {
		t.Fatalf("%s: %d %s: %s", path, resp.StatusCode, resp.Header.Get("Content-Type"), body)
	}
	var p view.Page
	if err := json.Unmarshal([]byte(body), &p); err != nil {
		t.Fatal(err)
	}
	return &p
}

func section(t *testing.T, p *view.Page, id string) view.Section {
	t.Helper()
	for _, s := range p.Sections {
		if s.ID == id {
			return s
		}
	}
	t.Fatalf("%q has no section %q", p.Title, id)
	return view.Section{}
}

func TestLoopback(t *testing.T) {
	for addr, want := range map[string]bool{"127.0.0.1:9100": true, "localhost:9100": true, "[::1]:0": true, "127.0.0.2:1": true,
		"0.0.0.0:9100": false, ":9100": false, "[::]:9100": false, "192.0.2.1:9100": false, "vigil.example:9100": false, "nonsense": false} {
		if got := console.Loopback(addr); got != want {
			t.Errorf("Loopback(%q) = %v, want %v", addr, got, want)
		}
	}
}

func TestPages(t *testing.T) {
	f := newFixture(t, "127.0.0.1:9100", "")
	// Overview: health, the subnet's facts, and its top earners linking to
	// their pages.
	ov := f.page(t, "/ui/api/")
	if s := section(t, ov, "node"); s.Facts[1].Value != "ok" {
		t.Errorf("health fact %+v", s.Facts[1])
	}
	sub := section(t, ov, fmt.Sprintf("subnet-%d", netuid))
	if sub.Table == nil || len(sub.Table.Rows) != 2 || sub.Table.Rows[0][1].Text != f.hotkeys[2] ||
		sub.Table.Rows[0][1].Link != fmt.Sprintf("/ui/subnet/%d/miner/%s", netuid, f.hotkeys[2]) {
		t.Fatalf("top earners %+v", sub.Table)
	}
	var sawNext, sawLast bool
	for _, fa := range sub.Facts {
		sawNext = sawNext || fa.Name == "next weights" && strings.Contains(fa.Value, "block 40")
		sawLast = sawLast || fa.Name == "last weights" && strings.HasPrefix(fa.Value, "block 30 (set, included")
	}
	if !sawNext || !sawLast {
		t.Errorf("weight windows missing from %+v", sub.Facts)
	}
	resp, html := f.get(t, "/ui/")
	if resp.StatusCode != 200 || !strings.Contains(html, `href="/ui/subnet/7/miner/`+f.hotkeys[2]+`"`) {
		t.Fatalf("overview HTML %d lacks the miner link:\n%s", resp.StatusCode, html)
	}
	for _, h := range []string{"Content-Security-Policy", "X-Frame-Options", "X-Content-Type-Options"} {
		if resp.Header.Get(h) == "" {
			t.Errorf("no %s header", h)
		}
	}

	// The weights page plots each miner's share of the included vectors
	// (the failed one left out) and the sampled incentive.
	for b := uint64(101); b <= 103; b++ {
		f.mg.Block = b
		f.c.Sample()
	}
	f.c.Sample() // the same block again: no new sample
	wp := f.page(t, "/ui/api/subnet/7/weights")
	plot := section(t, wp, "weights-plot").Chart
	if len(plot.Series) != 2 || !strings.HasPrefix(plot.Series[0].Name, "uid 2 ") {
		t.Fatalf("plotted series %+v", plot.Series)
	}
	if got := plot.Series[1].Points; fmt.Sprint(got) != "[[10 0.75] [30 0.25]]" {
		t.Errorf("uid 1's weight points %v, want [[10 0.75] [30 0.25]]", got)
	}
	inc := section(t, wp, "incentive-plot").Chart
	if got := inc.Series[0].Points; len(got) != 3 || got[0][0] != 101 || fmt.Sprintf("%.4f", got[2][1]) != "0.6104" {
		t.Errorf("uid 2's incentive points %v", got)
	}
	if plot.XMin != 10 || plot.XMax != 103 || inc.XMin != 10 || inc.XMax != 103 {
		t.Errorf("x ranges not aligned: %v..%v and %v..%v", plot.XMin, plot.XMax, inc.XMin, inc.XMax)
	}
	if subs := section(t, wp, "submissions").Table; len(subs.Rows) != 3 || subs.Rows[1][5].Text != "failed" {
		t.Errorf("submissions %+v", subs.Rows)
	}

	// Tables sort by a linkable query, both ways, in HTML and JSON.
	for dir, want := range map[string]string{"asc": "0.2500", "desc": "0.7500"} {
		last := section(t, f.page(t, "/ui/api/subnet/7/weights?sort=last.share&dir="+dir), "last").Table
		if last.Rows[0][3].Text != want {
			t.Errorf("sorted %s: first share %s, want %s", dir, last.Rows[0][3].Text, want)
		}
	}
	_, html = f.get(t, "/ui/subnet/7/weights?sort=last.share&dir=desc")
	if !strings.Contains(html, `href="?dir=asc&amp;sort=last.share#last">share ▼`) {
		t.Errorf("the sorted column's header does not link to the other order")
	}
	if !strings.Contains(html, "<svg") || !strings.Contains(html, "<polyline") {
		t.Errorf("the weights page draws no chart")
	}

	// The subnet's page is the mechanism's, escaped, then the chain's.
	_, html = f.get(t, "/ui/subnet/7")
	if !strings.Contains(html, "Mechanism &lt;miners&gt;") || !strings.Contains(html, "The chain&#39;s view at block 103") {
		t.Errorf("subnet page:\n%s", html)
	}

	// A miner's page: the chain's row, the plot and the mechanism's part.
	mp := f.page(t, "/ui/api/subnet/7/miner/"+f.hotkeys[1])
	if section(t, mp, "chain").Facts[0].Value != "1" || section(t, mp, "mine").Facts[0].Value != f.hotkeys[1] {
		t.Errorf("miner page %+v", mp)
	}
	if pts := section(t, mp, "plot").Chart.Series[0].Points; len(pts) != 2 {
		t.Errorf("miner's weight points %v", pts)
	}
	// Known to the chain only, or to neither; hotkeys in another form.
	if resp, _ := f.get(t, "/ui/subnet/7/miner/"+f.hotkeys[0]); resp.StatusCode != 200 {
		t.Errorf("a metagraph hotkey the mechanism does not know: %d", resp.StatusCode)
	}
	kp, _ := keys.FromURI("//Dave")
	pub := kp.PublicKey()
	kusama, _ := keys.SS58Encode(pub[:], 2)
	for _, p := range []string{"/ui/subnet/7/miner/" + kp.SS58(), "/ui/subnet/7/miner/" + kusama, "/ui/subnet/7/miner/0x" + fmt.Sprintf("%x", pub[:]),
		"/ui/subnet/8", "/ui/subnet/x", "/ui/subnet/7/nothing", "/ui/nothing", "/ui/static/other.css"} {
		if resp, _ := f.get(t, p); resp.StatusCode != http.StatusNotFound {
			t.Errorf("%s: %d, want 404", p, resp.StatusCode)
		}
	}
	if resp, css := f.get(t, "/ui/static/console.css"); resp.StatusCode != 200 || !strings.Contains(css, "table") {
		t.Errorf("stylesheet: %d", resp.StatusCode)
	}
}

func TestTokenOffLoopback(t *testing.T) {
	const token = "a-console-token-of-some-length"
	f := newFixture(t, "0.0.0.0:9100", token)
	for _, p := range []string{"/ui/", "/ui/api/", "/ui/static/console.css", "/ui/subnet/7/weights"} {
		resp, body := f.get(t, p)
		if resp.StatusCode != http.StatusUnauthorized || !strings.Contains(body, "needs its token") || resp.Header.Get("WWW-Authenticate") == "" {
			t.Errorf("%s without a token: %d %q", p, resp.StatusCode, body)
		}
		if strings.Contains(body, token) {
			t.Errorf("%s reveals the token", p)
		}
	}
	if resp, _ := f.get(t, "/ui/", "Authorization", "Bearer wrong"); resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("a wrong bearer token: %d", resp.StatusCode)
	}
	if resp, _ := f.get(t, "/ui/api/", "Authorization", "Bearer "+token); resp.StatusCode != 200 {
		t.Errorf("the bearer token: %d", resp.StatusCode)
	}
	if resp, _ := f.get(t, "/ui/?token=wrong"); resp.StatusCode != http.StatusUnauthorized || len(resp.Cookies()) != 0 {
		t.Errorf("a wrong ?token=: %d %v", resp.StatusCode, resp.Cookies())
	}
	// ?token= sets the cookie and drops the token from the address.
	resp, _ := f.get(t, "/ui/subnet/7/weights?sort=last.share&token="+url.QueryEscape(token))
	cookies := resp.Cookies()
	if resp.StatusCode != http.StatusSeeOther || len(cookies) != 1 || !cookies[0].HttpOnly || cookies[0].SameSite != http.SameSiteStrictMode {
		t.Fatalf("?token=: %d %v", resp.StatusCode, cookies)
	}
	if loc := resp.Header.Get("Location"); loc != "/ui/subnet/7/weights?sort=last.share" {
		t.Errorf("redirected to %q", loc)
	}
	if resp, body := f.get(t, "/ui/subnet/7/weights", "Cookie", cookies[0].Name+"="+cookies[0].Value); resp.StatusCode != 200 || !strings.Contains(body, "<svg") {
		t.Errorf("with the cookie: %d", resp.StatusCode)
	}

	// Off loopback without a token configured, the console is off.
	off := newFixture(t, ":9100", "")
	if resp, body := off.get(t, "/ui/"); resp.StatusCode != http.StatusForbidden || !strings.Contains(body, "console.token_file") {
		t.Errorf("no token configured: %d %q", resp.StatusCode, body)
	}
}

// TestTokenInBrowser: off loopback, a browser is refused until it opens
// the console once with ?token=, then browses it by the cookie, with the
// token gone from the address bar.
func TestTokenInBrowser(t *testing.T) {
	br := browsertest.New(t, time.Minute)
	const token = "a-console-token-of-some-length"
	f := newFixture(t, "0.0.0.0:9100", token)
	var body, h1, loc string
	if err := br.Run(30*time.Second, chromedp.Navigate(f.srv.URL+"/ui/"), chromedp.Text("body", &body, chromedp.ByQuery)); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(body, "needs its token") {
		t.Errorf("without the token the browser got %q", body)
	}
	// The 401 is logged as a failed load (maybe after a moment): any such
	// line is expected; every other one is not.
	lines := 0
	if err := br.Run(30*time.Second, chromedp.Navigate(f.srv.URL+"/ui/?token="+url.QueryEscape(token)), chromedp.WaitVisible("main h1", chromedp.ByQuery),
		chromedp.Text("main h1", &h1, chromedp.ByQuery), chromedp.Location(&loc)); err != nil {
		t.Fatal(err)
	}
	if h1 != "Overview" || strings.Contains(loc, "token") {
		t.Errorf("with ?token=: %q at %s", h1, loc)
	}
	if err := br.Run(30*time.Second, chromedp.Navigate(f.srv.URL+"/ui/subnet/7/weights"), chromedp.WaitVisible("main h1", chromedp.ByQuery),
		chromedp.Text("main h1", &h1, chromedp.ByQuery), browsertest.Count("svg.chart polyline", &lines)); err != nil {
		t.Fatal(err)
	}
	if h1 != "Subnet 7: weights" || lines == 0 {
		t.Errorf("by the cookie: %q with %d plotted lines", h1, lines)
	}
	for _, is := range br.Issues() {
		if !strings.Contains(is, "status of 401") {
			t.Errorf("console: %s", is)
		}
	}
}

// TestPagesBuiltOnceASecond: however many read a page at once, it is
// built once, and kept a second; a sorted read does not change what the
// others read.
func TestPagesBuiltOnceASecond(t *testing.T) {
	st := storetest.Open(t, "sqlite", nil)
	clk := clock.NewFake(time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC))
	builds := &atomic.Int32{}
	mech := testMech{known: []string{"5b", "5a", "5c"}, builds: builds, delay: 200 * time.Millisecond}
	c, err := console.New(console.Options{Listen: "127.0.0.1:0", Store: st, Health: api.NewHealth(time.Second), Clock: clk,
		Subnets: []console.Subnet{{Netuid: 1, Mechanism: mech, Status: func() validator.Status { return validator.Status{} },
			Metagraph: func() *subtensor.Metagraph { return nil }}}})
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	c.Mount(func(p string, h http.Handler) { mux.Handle(p, h) })
	srv := httptest.NewServer(mux)
	defer srv.Close()
	first := func(path string) string {
		resp, err := http.Get(srv.URL + path)
		if err != nil {
			t.Error(err)
			return ""
		}
		defer resp.Body.Close()
		var p view.Page
		if err := json.NewDecoder(resp.Body).Decode(&p); err != nil || len(p.Sections) == 0 {
			t.Errorf("%s: %v", path, err)
			return ""
		}
		return p.Sections[0].Table.Rows[0][0].Text
	}
	var wg sync.WaitGroup
	for i := range 20 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			path := "/ui/api/subnet/1"
			if i%2 == 1 {
				path += "?sort=mech.hotkey&dir=asc"
			}
			first(path)
		}()
	}
	wg.Wait()
	if n := builds.Load(); n != 1 {
		t.Errorf("20 concurrent reads built the page %d times, want 1", n)
	}
	if got := first("/ui/api/subnet/1"); got != "5b" {
		t.Errorf("the kept page reads %q first after sorted reads, want its own order (5b)", got)
	}
	if got := first("/ui/api/subnet/1?sort=mech.hotkey&dir=asc"); got != "5a" {
		t.Errorf("sorted: %q first, want 5a", got)
	}
	clk.Advance(2 * time.Second)
	first("/ui/api/subnet/1")
	if n := builds.Load(); n != 2 {
		t.Errorf("after a second: %d builds, want 2", n)
	}
}

// FuzzRequest: no path or query makes the console panic or fail with a
// server error; what is not a page is a 404 (or the mux's redirect).
func FuzzRequest(f *testing.F) {
	for _, seed := range [][2]string{{"/ui/", ""}, {"/ui/api/subnet/7/weights", "sort=last.share&dir=desc"}, {"/ui/subnet/7/miner/5GrwvaEF5zXb26Fz9rcQpDWS57CtERHpNehXCPcNoHGKutQY", ""},
		{"/ui/subnet/65536", "sort=.&dir="}, {"/ui/subnet/7/miner/%00", "sort=%zz"}, {"/ui/static/console.css", "token=x"}} {
		f.Add(seed[0], seed[1])
	}
	fx := newFixture(f, "127.0.0.1:9100", "")
	mux := http.NewServeMux()
	fx.c.Mount(func(p string, h http.Handler) { mux.Handle(p, h) })
	f.Fuzz(func(t *testing.T, path, query string) {
		req := &http.Request{Method: "GET", URL: &url.URL{Path: path, RawQuery: query}, Header: http.Header{}, Host: "127.0.0.1"}
		req = req.WithContext(context.Background())
		rec := httptest.NewRecorder()
		mux.ServeHTTP(rec, req)
		if rec.Code >= 500 {
			t.Fatalf("%q ? %q: %d %s", path, query, rec.Code, rec.Body)
		}
	})
}
