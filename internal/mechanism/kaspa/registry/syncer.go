package registry

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/vigil-validator/vigil/internal/clock"
	"github.com/vigil-validator/vigil/internal/promreg"
	"github.com/vigil-validator/vigil/internal/store"
)

// Peer is a validator to copy registrations from.
type Peer struct {
	Hotkey string // the peer's hotkey, which keys its sync cursor
	URL    string // base URL of its API, "http://203.0.113.7:8000"
}

// PeerSource lists the peers to sync from. The validator core implements it
// from the metagraph: validators with an axon whose weighted stake
// (alpha + 0.18·tao) reaches the configured threshold (the reference's is
// DefaultMinPeerStake).
type PeerSource interface {
	Peers() []Peer
}

// DefaultMinPeerStake is the reference's weighted-stake threshold for sync
// peers (MIN_WEIGHTED_STAKE).
const DefaultMinPeerStake = 1000.0

// DefaultSyncInterval is the reference's pause between sync runs.
const DefaultSyncInterval = 5 * time.Minute

// Errors a PeerReport can carry, for errors.Is.
var (
	// ErrIncompatiblePeer: the peer is not a HashTensor-compatible validator
	// of a compatible version.
	ErrIncompatiblePeer = errors.New("peer is not a compatible HashTensor validator")
	// ErrPeerMisbehaved: the peer served something a correct validator never
	// serves (a page over the limits, unparsable JSON, a bad signature in
	// its change feed, sequence numbers out of order).
	ErrPeerMisbehaved = errors.New("peer served invalid data")
)

// SyncerOpts configures NewSyncer.
type SyncerOpts struct {
	Store Store
	Peers PeerSource
	// Self is this validator's hotkey; it is not synced from.
	Self string
	// Version is this validator's info.version; peers must share its major
	// and minor number (default DefaultVersion).
	Version string
	// HTTPClient makes the calls; nil means a client that follows no
	// redirects. Every call is bounded by CallTimeout regardless.
	HTTPClient *http.Client
	// Interval is the pause between the end of one run and the next
	// (default 5 minutes, the reference's).
	Interval time.Duration
	// CallTimeout bounds each HTTP call (default 10 s, the reference's).
	CallTimeout time.Duration
	// PageSize is the page_size asked for (default 100); MaxPages bounds the
	// pages read from one peer in one run (default 20).
	PageSize int
	MaxPages int
	// MaxResponseBytes caps one response body (default 1 MiB).
	MaxResponseBytes int64
	// MaxWorkersPerHotkey caps active workers per hotkey (default 30), as
	// for local registrations.
	MaxWorkersPerHotkey int
	// Lookback re-reads this much before a reference peer's timestamp
	// cursor (default 5 minutes), so rows that reached it late are not
	// lost; rows already known cost a lookup.
	Lookback time.Duration
	// BackoffBase and BackoffMax bound the wait before retrying a failing
	// peer: BackoffBase doubling per consecutive failure, up to BackoffMax
	// (defaults 1 minute and 1 hour).
	BackoffBase time.Duration
	BackoffMax  time.Duration
	// Concurrency is the number of peers synced at once (default 4).
	Concurrency int
	Clock       clock.Clock
	Logger      *slog.Logger
	Registerer  prometheus.Registerer
}

// Syncer copies signed registrations and tombstones from peer validators.
type Syncer struct {
	opts   SyncerOpts
	client *http.Client
	log    *slog.Logger
	rows   *prometheus.CounterVec
	runs   *prometheus.CounterVec

	mu      sync.Mutex
	backoff map[string]backoffState
}

type backoffState struct {
	failures int
	until    time.Time
}

// NewSyncer validates opts and returns a Syncer.
func NewSyncer(opts SyncerOpts) (*Syncer, error) {
	switch {
	case opts.Store == nil:
		return nil, errors.New("registry: no store specified")
	case opts.Peers == nil:
		return nil, errors.New("registry: no peer source specified")
	case opts.Interval < 0, opts.CallTimeout < 0, opts.PageSize < 0, opts.MaxPages < 0, opts.MaxResponseBytes < 0,
		opts.MaxWorkersPerHotkey < 0, opts.Lookback < 0, opts.BackoffBase < 0, opts.BackoffMax < 0, opts.Concurrency < 0:
		return nil, errors.New("registry: negative sync limit")
	}
	def := func(d *time.Duration, v time.Duration) {
		if *d == 0 {
			*d = v
		}
	}
	def(&opts.Interval, DefaultSyncInterval)
	def(&opts.CallTimeout, 10*time.Second)
	def(&opts.Lookback, 5*time.Minute)
	def(&opts.BackoffBase, time.Minute)
	def(&opts.BackoffMax, time.Hour)
	if opts.PageSize == 0 {
		opts.PageSize = defaultPageSize
	}
	if opts.MaxPages == 0 {
		opts.MaxPages = 20
	}
	if opts.MaxResponseBytes == 0 {
		opts.MaxResponseBytes = 1 << 20
	}
	if opts.MaxWorkersPerHotkey == 0 {
		opts.MaxWorkersPerHotkey = DefaultMaxWorkersPerHotkey
	}
	if opts.Concurrency == 0 {
		opts.Concurrency = 4
	}
	if opts.Version == "" {
		opts.Version = DefaultVersion
	}
	if opts.Clock == nil {
		opts.Clock = clock.Real()
	}
	s := &Syncer{opts: opts, client: opts.HTTPClient, log: opts.Logger, backoff: map[string]backoffState{}}
	if s.client == nil {
		s.client = &http.Client{
			// A peer's address comes from the chain; never let it bounce
			// the request elsewhere.
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		}
	}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	s.log = s.log.With("component", "kaspa registry sync")
	s.rows = prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: "vigil", Subsystem: "kaspa_registry", Name: "sync_rows_total",
		Help: "Rows received from peer validators, by outcome.",
	}, []string{"outcome"})
	s.runs = prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: "vigil", Subsystem: "kaspa_registry", Name: "sync_peer_runs_total",
		Help: "Sync attempts per peer, by result.",
	}, []string{"result"})
	var err error
	if s.rows, err = promreg.Register(opts.Registerer, s.rows); err == nil {
		s.runs, err = promreg.Register(opts.Registerer, s.runs)
	}
	if err != nil {
		return nil, fmt.Errorf("registry: register sync metrics: %w", err)
	}
	return s, nil
}

// Run syncs at once, then again Interval after each run ends, until ctx
// ends. Failures are logged and retried; it returns only ctx's error.
func (s *Syncer) Run(ctx context.Context) error {
	for {
		s.SyncOnce(ctx)
		if err := s.opts.Clock.Sleep(ctx, s.opts.Interval); err != nil {
			return err
		}
	}
}

// PeerReport says what one run got from one peer.
type PeerReport struct {
	Peer Peer
	// Mode is "feed" (the change feed with tombstones) or "reference" (the
	// reference's timestamp paging); empty when the peer was not read.
	Mode string
	// BackingOff: the peer failed recently and was not called this run.
	BackingOff bool
	Pages      int
	Added      int // new active bindings
	Tombstoned int // new tombstones: unbinds applied, or unbound rows added
	Known      int // already known here, nothing to do
	Conflicts  int // the worker is bound here to another hotkey
	Capped     int // the hotkey already has its maximum of active workers
	Rejected   int // malformed rows or bad signatures (reference peers)
	Err        error
}

// SyncOnce syncs from every peer once and reports per peer.
func (s *Syncer) SyncOnce(ctx context.Context) []PeerReport {
	var peers []Peer
	seen := map[string]bool{}
	for _, p := range s.opts.Peers.Peers() {
		if p.Hotkey == "" || p.Hotkey == s.opts.Self || seen[p.Hotkey] {
			continue
		}
		seen[p.Hotkey] = true
		peers = append(peers, p)
	}
	reports := make([]PeerReport, len(peers))
	next := make(chan int)
	var wg sync.WaitGroup
	for range min(s.opts.Concurrency, len(peers)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				reports[i] = s.syncPeer(ctx, peers[i])
			}
		}()
	}
	for i := range peers {
		next <- i
	}
	close(next)
	wg.Wait()
	return reports
}

func (s *Syncer) syncPeer(ctx context.Context, p Peer) PeerReport {
	rep := PeerReport{Peer: p}
	key := p.Hotkey + " " + p.URL
	now := s.opts.Clock.Now()
	s.mu.Lock()
	b := s.backoff[key]
	s.mu.Unlock()
	if now.Before(b.until) {
		rep.BackingOff = true
		s.runs.WithLabelValues("backoff").Inc()
		return rep
	}
	rep.Err = s.readPeer(ctx, p, &rep)
	s.mu.Lock()
	defer s.mu.Unlock()
	if rep.Err == nil {
		delete(s.backoff, key)
		s.runs.WithLabelValues("ok").Inc()
		if rep.Added+rep.Tombstoned > 0 {
			s.log.Info("synced from peer", "peer", p.Hotkey, "mode", rep.Mode, "added", rep.Added,
				"tombstoned", rep.Tombstoned, "rejected", rep.Rejected)
		}
		return rep
	}
	if ctx.Err() != nil {
		return rep // shutting down: not the peer's fault
	}
	b.failures++
	delay := s.opts.BackoffMax
	if b.failures < 31 {
		delay = min(s.opts.BackoffBase<<(b.failures-1), s.opts.BackoffMax)
	}
	b.until = s.opts.Clock.Now().Add(delay)
	s.backoff[key] = b
	result := "error"
	level := slog.LevelWarn
	switch {
	case errors.Is(rep.Err, ErrIncompatiblePeer):
		result, level = "incompatible", slog.LevelDebug
	case errors.Is(rep.Err, ErrPeerMisbehaved):
		result = "misbehaved"
	}
	s.runs.WithLabelValues(result).Inc()
	s.log.Log(ctx, level, "registry: sync from peer failed", "peer", p.Hotkey, "url", p.URL, "err", rep.Err,
		"retry_in", delay, "added", rep.Added, "tombstoned", rep.Tombstoned)
	return rep
}

func (s *Syncer) readPeer(ctx context.Context, p Peer, rep *PeerReport) error {
	base, err := peerBase(p.URL)
	if err != nil {
		return err
	}
	info, err := s.peerInfo(ctx, base)
	if err != nil {
		return err
	}
	off, err := s.opts.Store.KaspaSyncOffset(ctx, p.Hotkey)
	if err != nil {
		return err
	}
	if info.Feed >= FeedVersion {
		rep.Mode = "feed"
		return s.readFeed(ctx, p, base, info.Instance, off, rep)
	}
	rep.Mode = "reference"
	return s.readReference(ctx, p, base, off, rep)
}

func peerBase(raw string) (string, error) {
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.RawQuery != "" || u.Fragment != "" {
		return "", fmt.Errorf("%w: unusable URL %q", ErrIncompatiblePeer, truncate(raw, 128))
	}
	return strings.TrimRight(u.String(), "/"), nil
}

// get fetches one JSON document from a peer, bounded in time and size.
func (s *Syncer) get(ctx context.Context, u string, into any) error {
	ctx, cancel := context.WithTimeout(ctx, s.opts.CallTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return err
	}
	req.Header.Set("Accept", "application/json")
	resp, err := s.client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("GET %s: HTTP %d", u, resp.StatusCode)
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, s.opts.MaxResponseBytes+1))
	if err != nil {
		return fmt.Errorf("GET %s: %w", u, err)
	}
	if int64(len(body)) > s.opts.MaxResponseBytes {
		return fmt.Errorf("%w: GET %s: answer larger than %d bytes", ErrPeerMisbehaved, u, s.opts.MaxResponseBytes)
	}
	if err := json.Unmarshal(body, into); err != nil {
		return fmt.Errorf("%w: GET %s: %w", ErrPeerMisbehaved, u, err)
	}
	return nil
}

func (s *Syncer) peerInfo(ctx context.Context, base string) (openAPIInfo, error) {
	var doc struct {
		Info openAPIInfo `json:"info"`
	}
	if err := s.get(ctx, base+"/openapi.json", &doc); err != nil {
		if errors.Is(err, ErrPeerMisbehaved) {
			return doc.Info, fmt.Errorf("%w: %w", ErrIncompatiblePeer, err)
		}
		return doc.Info, err
	}
	if doc.Info.Title != Title {
		return doc.Info, fmt.Errorf("%w: title %q", ErrIncompatiblePeer, truncate(doc.Info.Title, 64))
	}
	if !CompatibleVersion(doc.Info.Version, s.opts.Version) {
		return doc.Info, fmt.Errorf("%w: version %q, this validator speaks %s", ErrIncompatiblePeer, truncate(doc.Info.Version, 32), s.opts.Version)
	}
	return doc.Info, nil
}

// CompatibleVersion reports whether two versions share major and minor
// numbers ("1.4.2" and "1.4.7" do). The reference requires equality, which
// splits the network during every rollout.
func CompatibleVersion(peer, ours string) bool {
	p, o := strings.Split(peer, "."), strings.Split(ours, ".")
	if len(p) < 2 || len(o) < 2 {
		return peer == ours
	}
	return p[0] == o[0] && p[1] == o[1]
}

// readFeed pages through a vigil peer's change feed. A vigil peer verified
// every row it serves, so one bad row means the peer is broken or hostile:
// the whole page is refused and the cursor stays before it.
func (s *Syncer) readFeed(ctx context.Context, p Peer, base, instance string, off store.KaspaSyncOffset, rep *PeerReport) error {
	if instance != off.PeerInstance {
		// A new database on the peer numbers its changes from 1 again.
		off.LastSeq, off.PeerInstance = 0, instance
	}
	for range s.opts.MaxPages {
		u := fmt.Sprintf("%s/hotkey_workers?since_seq=%d&page_size=%d", base, off.LastSeq, s.opts.PageSize)
		var raw []json.RawMessage
		if err := s.get(ctx, u, &raw); err != nil {
			return err
		}
		rep.Pages++
		if len(raw) > s.opts.PageSize {
			return fmt.Errorf("%w: %d rows for a page of %d", ErrPeerMisbehaved, len(raw), s.opts.PageSize)
		}
		rows := make([]peerRow, 0, len(raw))
		last := off.LastSeq
		for _, r := range raw {
			row, err := parsePeerRow(r, true)
			if err == nil && row.seq <= last {
				err = fmt.Errorf("seq %d after %d", row.seq, last)
			}
			if err != nil {
				rep.Rejected += len(raw)
				s.rows.WithLabelValues("rejected").Add(float64(len(raw)))
				return fmt.Errorf("%w: change feed after seq %d: %w", ErrPeerMisbehaved, off.LastSeq, err)
			}
			last = row.seq
			rows = append(rows, row)
		}
		for _, row := range rows {
			if err := s.apply(ctx, p, row, rep); err != nil {
				return err
			}
			off.LastSeq = row.seq
		}
		off.LastSyncAt = time.Time{}
		if err := s.opts.Store.PutKaspaSyncOffset(ctx, off); err != nil {
			return err
		}
		if len(raw) < s.opts.PageSize {
			return nil
		}
	}
	return nil
}

// readReference pages through a reference (Python) peer by registration
// time. Its rows may carry signatures it never checked (it can run with
// verification off), so bad rows are skipped, as the reference skips them.
func (s *Syncer) readReference(ctx context.Context, p Peer, base string, off store.KaspaSyncOffset, rep *PeerReport) error {
	since := max(0, off.LastRegistrationTime-s.opts.Lookback.Seconds())
	// A signed time in the future must not push the cursor past rows that
	// are yet to come.
	ceiling := float64(s.opts.Clock.Now().Unix())
	latest := off.LastRegistrationTime
	var err error
	for page := 1; page <= s.opts.MaxPages; page++ {
		u := fmt.Sprintf("%s/hotkey_workers?since_timestamp=%s&page_size=%d&page_number=%d",
			base, FormatPyFloat(since), s.opts.PageSize, page)
		var raw []json.RawMessage
		if err = s.get(ctx, u, &raw); err != nil {
			break
		}
		rep.Pages++
		if len(raw) > s.opts.PageSize {
			err = fmt.Errorf("%w: %d rows for a page of %d", ErrPeerMisbehaved, len(raw), s.opts.PageSize)
			break
		}
		for _, r := range raw {
			row, perr := parsePeerRow(r, false)
			if row.timeOK {
				latest = max(latest, min(row.registrationTime, ceiling))
			}
			if perr != nil {
				rep.Rejected++
				s.rows.WithLabelValues("rejected").Inc()
				s.log.Debug("skipped a peer row", "peer", p.Hotkey, "err", perr)
				continue
			}
			if err = s.apply(ctx, p, row, rep); err != nil {
				break
			}
		}
		if err != nil || len(raw) < s.opts.PageSize {
			break
		}
	}
	if err != nil && rep.Pages == 0 {
		return err
	}
	if latest > off.LastRegistrationTime {
		off.LastRegistrationTime = latest
		off.LastSyncAt = time.Time{}
		if perr := s.opts.Store.PutKaspaSyncOffset(ctx, off); perr != nil && err == nil {
			err = perr
		}
	}
	return err
}

// peerRow is a row from a peer whose signatures have been verified.
type peerRow struct {
	worker, hotkey    string
	registrationTime  float64
	timeOK            bool
	signature, unbind string
	seq               int64
}

// maxRegistrationTime bounds signed times accepted from peers (year 5138):
// far-off values are garbage, and must keep × 1e6 inside int64.
const maxRegistrationTime = 1e11

// parsePeerRow checks one row of /hotkey_workers: field types, the worker
// name rules, the registration signature and, when present, the unbind
// signature. seq is required in the change feed.
func parsePeerRow(raw json.RawMessage, feed bool) (peerRow, error) {
	var r struct {
		Worker           *string     `json:"worker"`
		Hotkey           *string     `json:"hotkey"`
		RegistrationTime json.Number `json:"registration_time"`
		Signature        *string     `json:"signature"`
		Seq              json.Number `json:"seq"`
		UnbindSignature  *string     `json:"unbind_signature"`
	}
	var row peerRow
	if err := json.Unmarshal(raw, &r); err != nil {
		return row, fmt.Errorf("row: %w", err)
	}
	if r.Worker == nil || r.Hotkey == nil || r.Signature == nil || r.RegistrationTime == "" {
		return row, errors.New("row lacks worker, hotkey, registration_time or signature")
	}
	row.worker, row.hotkey = *r.Worker, *r.Hotkey
	t, err := strconv.ParseFloat(string(r.RegistrationTime), 64)
	if err != nil || math.IsNaN(t) || t < 0 || t > maxRegistrationTime {
		return row, fmt.Errorf("worker %q: registration_time %s out of range", truncate(row.worker, 64), truncate(string(r.RegistrationTime), 32))
	}
	row.registrationTime, row.timeOK = t, true
	if feed {
		if row.seq, err = strconv.ParseInt(string(r.Seq), 10, 64); err != nil || row.seq <= 0 {
			return row, fmt.Errorf("worker %q: seq %q is not a positive integer", truncate(row.worker, 64), truncate(string(r.Seq), 32))
		}
	}
	if why := checkWorkerName(row.worker); why != "" || row.worker == "" {
		return row, fmt.Errorf("worker %q: unusable name", truncate(row.worker, 64))
	}
	if len(row.hotkey) > maxHotkeyLen {
		return row, fmt.Errorf("worker %q: %w", truncate(row.worker, 64), ErrInvalidHotkey)
	}
	if _, err := CanonicalHotkey(row.hotkey); err != nil {
		return row, fmt.Errorf("worker %q: %w", truncate(row.worker, 64), err)
	}
	if !strings.Contains(row.worker, row.hotkey) {
		return row, fmt.Errorf("worker %q does not contain its hotkey %s", truncate(row.worker, 64), truncate(row.hotkey, 64))
	}
	row.signature = strings.ToLower(*r.Signature)
	if err := VerifySignature(row.hotkey, RegistrationMessage(row.hotkey, row.worker, t), row.signature); err != nil {
		return row, fmt.Errorf("worker %q: registration: %w", truncate(row.worker, 64), err)
	}
	if r.UnbindSignature != nil && *r.UnbindSignature != "" {
		row.unbind = strings.ToLower(*r.UnbindSignature)
		if err := VerifySignature(row.hotkey, UnbindMessage(row.hotkey, row.worker), row.unbind); err != nil {
			return row, fmt.Errorf("worker %q: unbind: %w", truncate(row.worker, 64), err)
		}
	}
	return row, nil
}

// apply stores a verified row. A worker known here keeps its binding: a
// peer can add a binding or a tombstone for it, never move it to another
// hotkey.
func (s *Syncer) apply(ctx context.Context, p Peer, row peerRow, rep *PeerReport) error {
	outcome, err := s.applyRow(ctx, p, row)
	if err != nil {
		return err
	}
	s.rows.WithLabelValues(outcome).Inc()
	switch outcome {
	case "added":
		rep.Added++
	case "tombstoned":
		rep.Tombstoned++
	case "known":
		rep.Known++
	case "conflict":
		rep.Conflicts++
	case "capped":
		rep.Capped++
	}
	return nil
}

func (s *Syncer) applyRow(ctx context.Context, p Peer, row peerRow) (string, error) {
	cur, err := s.opts.Store.KaspaMapping(ctx, row.worker)
	switch {
	case err == nil:
		if cur.Hotkey != row.hotkey {
			return "conflict", nil
		}
		if row.unbind == "" || !cur.Active() {
			return "known", nil
		}
		err := s.opts.Store.UnbindKaspaWorker(ctx, row.hotkey, row.worker, row.unbind, p.Hotkey)
		if errors.Is(err, store.ErrKaspaAlreadyUnbound) {
			return "known", nil
		}
		if err != nil {
			return "", err
		}
		return "tombstoned", nil
	case !errors.Is(err, store.ErrNotFound):
		return "", err
	}
	m := &store.KaspaMapping{
		Worker:              row.worker,
		Hotkey:              row.hotkey,
		RegistrationTime:    row.registrationTime,
		RegistrationTimeInt: Micros(row.registrationTime),
		Signature:           row.signature,
		Source:              p.Hotkey,
	}
	outcome := "added"
	if row.unbind != "" {
		m.UnbindSignature, m.UnbindSource, outcome = row.unbind, p.Hotkey, "tombstoned"
	}
	switch err := s.opts.Store.AddKaspaMapping(ctx, m, s.opts.MaxWorkersPerHotkey); {
	case errors.Is(err, store.ErrKaspaWorkerExists):
		// Bound meanwhile (a local registration or another peer); the next
		// run sees it as known or as a conflict.
		return "known", nil
	case errors.Is(err, store.ErrKaspaWorkerLimit):
		return "capped", nil
	case err != nil:
		return "", err
	}
	return outcome, nil
}
