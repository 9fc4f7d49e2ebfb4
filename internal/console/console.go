// Package console is the operator's web console: read-only pages on the
// operations listener (/ui/) that show whether the validator is healthy,
// what it put on chain and why, and who is earning and who is failing,
// with the same data as JSON under /ui/api/ for scripts. Pages are drawn
// on the server (HTML and SVG from embedded templates, no script and no
// CDN) from what the node holds: the weight loop's status, the journal,
// the mechanisms' last passes and a sampled history of the chain's
// incentives. Off loopback, every request needs the console's token.
package console

import (
	"context"
	"crypto/subtle"
	"errors"
	"fmt"
	"html"
	"io"
	"log/slog"
	"net"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/vigil-validator/vigil/bittensor/subtensor"
	"github.com/vigil-validator/vigil/internal/api"
	"github.com/vigil-validator/vigil/internal/clock"
	"github.com/vigil-validator/vigil/internal/flight"
	"github.com/vigil-validator/vigil/internal/mechanism"
	"github.com/vigil-validator/vigil/internal/mechanism/kaspa/registry"
	"github.com/vigil-validator/vigil/internal/store"
	"github.com/vigil-validator/vigil/internal/validator"
	"github.com/vigil-validator/vigil/internal/view"
)

// Subnet is one subnet the node serves, as the console reads it.
type Subnet struct {
	Netuid    uint16
	Mechanism mechanism.Mechanism
	// Status is the weight loop's view (validator.Validator.Status).
	Status func() validator.Status
	// Metagraph is the subnet's latest metagraph, nil before the first.
	Metagraph func() *subtensor.Metagraph
}

// Options configure a Console.
type Options struct {
	// Listen is the ops listener's configured address: off loopback every
	// request needs Token.
	Listen string
	// Token is the console's token ("" when none is configured).
	Token   string
	Network string
	Version string
	Store   *store.Store
	Health  *api.Health
	Subnets []Subnet
	// SampleEvery is how often the chain's incentives are sampled for the
	// plots (default 12 s, a block).
	SampleEvery time.Duration
	Clock       clock.Clock
	Log         *slog.Logger
}

// Console serves the pages.
type Console struct {
	opts      Options
	needToken bool
	subnets   map[uint16]*subnetState
	order     []uint16

	// Each page is built once at a time and kept for pageTTL, so that no
	// number of readers adds load on the store beyond a build a second.
	mu      sync.Mutex
	built   map[string]builtPage
	flights map[string]*flight.Group[builtPage]
}

// builtPage is a page as built for a path.
type builtPage struct {
	at     time.Time
	page   *view.Page
	netuid int
	err    error
}

const (
	pageTTL = time.Second
	// maxBuilt bounds the pages kept (a miner's page per hotkey asked
	// for): past it, expired ones go, and then nothing more is kept.
	maxBuilt = 1024
	// buildTimeout bounds a page's build, which runs on whoever waits.
	buildTimeout = 10 * time.Second
)

// subnetState is a subnet and its sampled incentive history.
type subnetState struct {
	Subnet
	mu      sync.Mutex
	samples []sample
	minGap  uint64 // blocks between kept samples; doubles as the history thins
}

// sample is the chain's incentive per uid at a block.
type sample struct {
	block     uint64
	incentive []float32
}

// maxSamples bounds a subnet's history: when full, every other sample
// goes, so the plot spans the whole uptime at a falling resolution.
const maxSamples = 360

// New builds a console.
func New(opts Options) (*Console, error) {
	if opts.Store == nil || opts.Health == nil {
		return nil, errors.New("console: a store and a health are required")
	}
	if opts.Clock == nil {
		opts.Clock = clock.Real()
	}
	if opts.Log == nil {
		opts.Log = slog.New(slog.DiscardHandler)
	}
	if opts.SampleEvery <= 0 {
		opts.SampleEvery = 12 * time.Second
	}
	c := &Console{opts: opts, needToken: !Loopback(opts.Listen), subnets: map[uint16]*subnetState{},
		built: map[string]builtPage{}, flights: map[string]*flight.Group[builtPage]{}}
	for _, s := range opts.Subnets {
		if _, dup := c.subnets[s.Netuid]; dup {
			return nil, fmt.Errorf("console: netuid %d twice", s.Netuid)
		}
		c.subnets[s.Netuid] = &subnetState{Subnet: s, minGap: 1}
		c.order = append(c.order, s.Netuid)
	}
	if c.needToken && opts.Token == "" {
		opts.Log.Warn("the console is off: ops.listen is not loopback and console.token_file is unset", "listen", opts.Listen)
	}
	return c, nil
}

// Loopback reports whether a listen address (host:port) binds loopback
// only; an empty host binds every interface.
func Loopback(listen string) bool {
	host, _, err := net.SplitHostPort(listen)
	if err != nil {
		return false
	}
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// Mount adds the console's routes with handle (api.Server.Handle).
func (c *Console) Mount(handle func(pattern string, h http.Handler)) {
	handle("GET /ui/", c.guard(http.HandlerFunc(c.serve)))
	handle("GET /ui/static/", c.guard(staticHandler()))
}

// Run samples the chain's incentives until ctx ends.
func (c *Console) Run(ctx context.Context) error {
	for {
		c.Sample()
		select {
		case <-ctx.Done():
			return nil
		case <-c.opts.Clock.After(c.opts.SampleEvery):
		}
	}
}

// Sample records each subnet's incentives if its metagraph moved on by
// the history's gap.
func (c *Console) Sample() {
	for _, n := range c.order {
		s := c.subnets[n]
		mg := s.Metagraph()
		if mg == nil {
			continue
		}
		s.mu.Lock()
		if k := len(s.samples); k == 0 || mg.Block >= s.samples[k-1].block+s.minGap {
			inc := make([]float32, len(mg.Neurons))
			for _, nr := range mg.Neurons {
				if int(nr.UID) < len(inc) {
					inc[nr.UID] = float32(nr.Incentive.Float())
				}
			}
			s.samples = append(s.samples, sample{block: mg.Block, incentive: inc})
			if len(s.samples) >= maxSamples {
				kept := s.samples[:0]
				for i := 0; i < len(s.samples); i += 2 {
					kept = append(kept, s.samples[i])
				}
				s.samples, s.minGap = kept, s.minGap*2
			}
		}
		s.mu.Unlock()
	}
}

// history is a copy of a subnet's samples.
func (s *subnetState) history() []sample {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]sample(nil), s.samples...)
}

const cookieName = "vigil_console"

// guard demands the token off loopback: as a bearer header, the console's
// cookie, or ?token= once (which sets the cookie and drops the token from
// the address). Every answer carries headers that keep the pages from
// being framed, sniffed or cached.
func (c *Console) guard(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hd := w.Header()
		hd.Set("Content-Security-Policy", "default-src 'none'; style-src 'self'; img-src 'self' data:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'")
		hd.Set("X-Content-Type-Options", "nosniff")
		hd.Set("X-Frame-Options", "DENY")
		hd.Set("Referrer-Policy", "no-referrer")
		hd.Set("Cache-Control", "no-store")
		if !c.needToken {
			h.ServeHTTP(w, r)
			return
		}
		if c.opts.Token == "" {
			refuse(w, http.StatusForbidden, "the console is off: the ops listener is not on loopback and console.token_file is unset")
			return
		}
		if q := r.URL.Query().Get("token"); q != "" {
			if !c.tokenOK(q) {
				refuse(w, http.StatusUnauthorized, "wrong console token")
				return
			}
			http.SetCookie(w, &http.Cookie{Name: cookieName, Value: q, Path: "/ui/", HttpOnly: true, SameSite: http.SameSiteStrictMode,
				Secure: r.TLS != nil})
			u := *r.URL
			v := u.Query()
			v.Del("token")
			u.RawQuery = v.Encode()
			http.Redirect(w, r, u.RequestURI(), http.StatusSeeOther)
			return
		}
		given := ""
		if a := r.Header.Get("Authorization"); strings.HasPrefix(a, "Bearer ") {
			given = strings.TrimPrefix(a, "Bearer ")
		} else if ck, err := r.Cookie(cookieName); err == nil {
			given = ck.Value
		}
		if !c.tokenOK(given) {
			hd.Set("WWW-Authenticate", `Bearer realm="vigil console"`)
			refuse(w, http.StatusUnauthorized, "this console needs its token: open /ui/?token=TOKEN (the validator's console.token_file), or send Authorization: Bearer TOKEN")
			return
		}
		h.ServeHTTP(w, r)
	})
}

// refuse answers a refused request with a page of one line; the page
// names no icon, so a browser asks for none it would be refused too.
func refuse(w http.ResponseWriter, code int, msg string) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(code)
	_, _ = io.WriteString(w, "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>vigil</title><link rel=\"icon\" href=\"data:,\"></head>\n<body><p>"+
		html.EscapeString(msg)+"</p></body></html>\n")
}

func (c *Console) tokenOK(given string) bool {
	return given != "" && subtle.ConstantTimeCompare([]byte(given), []byte(c.opts.Token)) == 1
}

// errNotFound is a page that does not exist.
var errNotFound = errors.New("not found")

// serve routes /ui/... (HTML) and /ui/api/... (JSON) to a page builder.
func (c *Console) serve(w http.ResponseWriter, r *http.Request) {
	path := strings.TrimPrefix(r.URL.Path, "/ui/")
	asJSON := false
	if rest, ok := strings.CutPrefix(path, "api/"); ok {
		path, asJSON = rest, true
	}
	page, netuid, err := c.cachedPage(r.Context(), strings.Trim(path, "/"))
	switch {
	case errors.Is(err, errNotFound):
		http.NotFound(w, r)
		return
	case err != nil:
		c.opts.Log.Warn("console page failed", "path", r.URL.Path, "err", err)
		http.Error(w, "this page could not be built: "+err.Error(), http.StatusInternalServerError)
		return
	}
	if key := r.URL.Query().Get("sort"); key != "" {
		page = sortPage(page, key, r.URL.Query().Get("dir") == "desc")
	}
	if asJSON {
		writeJSON(w, page)
		return
	}
	c.render(w, r, page, netuid)
}

// sortPage is p with the table of the section named by key's prefix
// ("miners.weight") sorted; p, which others may be reading, is left as
// it is.
func sortPage(p *view.Page, key string, desc bool) *view.Page {
	sec, col, ok := strings.Cut(key, ".")
	if !ok {
		return p
	}
	out := &view.Page{Title: p.Title, Sections: slices.Clone(p.Sections)}
	for i := range out.Sections {
		if s := &out.Sections[i]; s.ID == sec && s.Table != nil {
			t := &view.Table{Columns: s.Table.Columns, Rows: slices.Clone(s.Table.Rows)}
			t.Sort(col, desc)
			s.Table = t
		}
	}
	return out
}

// cachedPage is page's result for path, built at most once per pageTTL
// however many ask: concurrent readers share one build.
func (c *Console) cachedPage(ctx context.Context, path string) (*view.Page, int, error) {
	now := c.opts.Clock.Now()
	c.mu.Lock()
	if b, ok := c.built[path]; ok && now.Sub(b.at) < pageTTL {
		c.mu.Unlock()
		return b.page, b.netuid, b.err
	}
	g := c.flights[path]
	if g == nil {
		g = &flight.Group[builtPage]{}
		c.flights[path] = g
	}
	c.mu.Unlock()
	b, _, err := g.Do(ctx, func(ctx context.Context) (builtPage, error) {
		ctx, cancel := context.WithTimeout(ctx, buildTimeout)
		defer cancel()
		p, n, err := c.page(ctx, path)
		b := builtPage{at: c.opts.Clock.Now(), page: p, netuid: n, err: err}
		c.mu.Lock()
		defer c.mu.Unlock()
		delete(c.flights, path)
		if err != nil && !errors.Is(err, errNotFound) {
			return b, nil // a failure is not kept
		}
		if len(c.built) >= maxBuilt {
			for k, old := range c.built {
				if b.at.Sub(old.at) >= pageTTL {
					delete(c.built, k)
				}
			}
		}
		if len(c.built) < maxBuilt {
			c.built[path] = b
		}
		return b, nil
	})
	if err != nil {
		return nil, 0, err
	}
	return b.page, b.netuid, b.err
}

// page builds the page at path: "" (the overview), "subnet/N",
// "subnet/N/weights" or "subnet/N/miner/HOTKEY". netuid is the subnet's,
// -1 for the overview.
func (c *Console) page(ctx context.Context, path string) (*view.Page, int, error) {
	if path == "" {
		p, err := c.overview(ctx)
		return p, -1, err
	}
	parts := strings.Split(path, "/")
	if parts[0] != "subnet" || len(parts) < 2 {
		return nil, 0, errNotFound
	}
	n, err := strconv.ParseUint(parts[1], 10, 16)
	if err != nil {
		return nil, 0, errNotFound
	}
	s := c.subnets[uint16(n)]
	if s == nil {
		return nil, 0, errNotFound
	}
	var p *view.Page
	switch {
	case len(parts) == 2:
		p, err = c.subnetPage(ctx, s)
	case len(parts) == 3 && parts[2] == "weights":
		p, err = c.weightsPage(ctx, s)
	case len(parts) == 4 && parts[2] == "miner":
		// Miners are named by the subnet's one spelling of a key only.
		if _, err := registry.CanonicalHotkey(parts[3]); err != nil {
			return nil, 0, errNotFound
		}
		p, err = c.minerPage(ctx, s, parts[3])
	default:
		return nil, 0, errNotFound
	}
	return p, int(n), err
}

// minerURL is the link to a miner's page.
func minerURL(netuid uint16) func(string) string {
	return func(hotkey string) string { return fmt.Sprintf("/ui/subnet/%d/miner/%s", netuid, hotkey) }
}
