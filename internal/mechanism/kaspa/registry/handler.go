package registry

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/vigil-validator/vigil/internal/clock"
	"github.com/vigil-validator/vigil/internal/logthrottle"
	"github.com/vigil-validator/vigil/internal/promreg"
	"github.com/vigil-validator/vigil/internal/store"
)

// The answers of /register and /unbind, byte for byte the reference's:
// miners' scripts and the operator documentation quote them.
const (
	MsgTimeTooFar        = "Registration time is too far from current UTC time."
	MsgHotkeyNotInWorker = "Worker name must contain the hotkey for security validation."
	MsgWorkerNotFound    = "Worker not found. Make sure you are using the correct wallet address\nKaspa Pool Owner Wallet: " // + the pool wallet
	MsgInvalidSignature  = "Invalid signature"
	MsgHotkeyNotInSubnet = "Hotkey not registered. To register in subnet use btcli command: `btcli subnet register`"
	MsgAlreadyRegistered = "Worker already registered"
	MsgWorkerLimit       = "Maximum number of workers (%d) for this hotkey reached"
	MsgRegistered        = "Registration successful"
	MsgNoSuchBinding     = "Worker not found for this hotkey"
	MsgAlreadyUnbound    = "Worker already unbound"
	MsgUnbound           = "Worker unbound successfully"
)

// Defaults of HandlerOpts and SyncerOpts, the reference's where it has one.
const (
	DefaultMaxWorkersPerHotkey       = 30
	DefaultRegistrationTimeTolerance = time.Minute
	DefaultMaxBodyBytes              = 16 << 10
	DefaultMaxPageSize               = 1000
	defaultPageSize                  = 100
)

// WorkerChecker says whether a worker has connected to the pool (under the
// pool owner's wallet). The metrics package implements it from Prometheus.
type WorkerChecker interface {
	WorkerExists(ctx context.Context, worker string) (bool, error)
}

// HotkeyChecker says whether a hotkey is registered on the subnet. The
// validator core implements it from the metagraph.
type HotkeyChecker interface {
	HotkeyRegistered(ctx context.Context, hotkey string) (bool, error)
}

// Store is the part of *store.Store the registry uses.
type Store interface {
	AddKaspaMapping(ctx context.Context, m *store.KaspaMapping, maxActive int) error
	AddKaspaMappings(ctx context.Context, ms []*store.KaspaMapping, maxActive int, eventKind string) []error
	UnbindKaspaWorker(ctx context.Context, hotkey, worker, signature, source string) error
	KaspaMapping(ctx context.Context, worker string) (store.KaspaMapping, error)
	ActiveKaspaMappings(ctx context.Context) (map[string]string, error)
	KaspaMappingsSince(ctx context.Context, sinceMicros int64, limit, offset int) ([]store.KaspaMapping, error)
	KaspaChangesSince(ctx context.Context, seq int64, limit int) ([]store.KaspaMapping, error)
	KaspaRegistryInstance(ctx context.Context) (string, error)
	KaspaSyncOffset(ctx context.Context, peer string) (store.KaspaSyncOffset, error)
	PutKaspaSyncOffset(ctx context.Context, o store.KaspaSyncOffset) error
	KaspaSyncOffsets(ctx context.Context, limit, offset int) ([]store.KaspaSyncOffset, error)
	AppendEvent(ctx context.Context, e store.Event) (int64, error)
}

var _ Store = (*store.Store)(nil)

// HandlerOpts configures NewHandler.
type HandlerOpts struct {
	Store   Store
	Workers WorkerChecker
	Hotkeys HotkeyChecker
	// PoolWallet is the pool owner's Kaspa wallet, quoted when a worker is
	// not found.
	PoolWallet string
	// MaxWorkersPerHotkey caps active workers per hotkey (default 30).
	MaxWorkersPerHotkey int
	// RegistrationTimeTolerance bounds |now − registration_time| (default
	// 1 minute).
	RegistrationTimeTolerance time.Duration
	// MaxBodyBytes caps request bodies (default 16 KiB).
	MaxBodyBytes int64
	// MaxPageSize caps page_size of the paged routes (default 1000).
	MaxPageSize int
	// Version is served as info.version of /openapi.json (default
	// DefaultVersion); Python peers sync only from their own version.
	Version    string
	Clock      clock.Clock
	Logger     *slog.Logger
	Registerer prometheus.Registerer
}

// Handler serves the registry routes: POST /register, POST /unbind,
// GET /mappings, GET /hotkey_workers, GET /validator_sync_offsets and
// GET /openapi.json, all at the root as the reference serves them.
type Handler struct {
	opts    HandlerOpts
	mux     *http.ServeMux
	log     *slog.Logger
	warns   *logthrottle.Logger
	results *prometheus.CounterVec

	adds *batcher

	instanceMu sync.Mutex
	instance   string // the store's registry name, once read
}

// Route is one pattern of the handler, for mounting on another mux.
type Route struct {
	Pattern string // a net/http ServeMux pattern, "POST /register"
	Handler http.Handler
}

// NewHandler validates opts and returns the handler.
func NewHandler(opts HandlerOpts) (*Handler, error) {
	switch {
	case opts.Store == nil:
		return nil, errors.New("registry: no store specified")
	case opts.Workers == nil:
		return nil, errors.New("registry: no worker checker specified")
	case opts.Hotkeys == nil:
		return nil, errors.New("registry: no hotkey checker specified")
	case opts.PoolWallet == "":
		return nil, errors.New("registry: no pool wallet specified")
	case opts.MaxWorkersPerHotkey < 0, opts.RegistrationTimeTolerance < 0, opts.MaxBodyBytes < 0, opts.MaxPageSize < 0:
		return nil, errors.New("registry: negative limit")
	}
	if opts.MaxWorkersPerHotkey == 0 {
		opts.MaxWorkersPerHotkey = DefaultMaxWorkersPerHotkey
	}
	if opts.RegistrationTimeTolerance == 0 {
		opts.RegistrationTimeTolerance = DefaultRegistrationTimeTolerance
	}
	if opts.MaxBodyBytes == 0 {
		opts.MaxBodyBytes = DefaultMaxBodyBytes
	}
	if opts.MaxPageSize == 0 {
		opts.MaxPageSize = DefaultMaxPageSize
	}
	if opts.Version == "" {
		opts.Version = DefaultVersion
	}
	if opts.Clock == nil {
		opts.Clock = clock.Real()
	}
	h := &Handler{opts: opts, mux: http.NewServeMux(), log: opts.Logger}
	h.adds = &batcher{store: opts.Store, maxActive: opts.MaxWorkersPerHotkey, eventKind: "kaspa.registry.bound"}
	if h.log == nil {
		h.log = slog.New(slog.DiscardHandler)
	}
	h.log = h.log.With("component", "kaspa registry")
	h.warns = logthrottle.New(h.log, opts.Clock, 0, 0)
	h.results = prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: "vigil",
		Subsystem: "kaspa_registry",
		Name:      "requests_total",
		Help:      "Registrations and unbinds received, by route and outcome.",
	}, []string{"route", "outcome"})
	var err error
	if h.results, err = promreg.Register(opts.Registerer, h.results); err != nil {
		return nil, fmt.Errorf("registry: register metrics: %w", err)
	}
	for _, r := range h.Routes() {
		h.mux.Handle(r.Pattern, r.Handler)
	}
	return h, nil
}

// Routes lists the handler's routes, for mounting them one by one (so that
// a server counts requests per route).
func (h *Handler) Routes() []Route {
	return []Route{
		{"POST /register", http.HandlerFunc(h.register)},
		{"POST /unbind", http.HandlerFunc(h.unbind)},
		{"GET /mappings", http.HandlerFunc(h.mappings)},
		{"GET /hotkey_workers", http.HandlerFunc(h.hotkeyWorkers)},
		{"GET /validator_sync_offsets", http.HandlerFunc(h.syncOffsets)},
		{"GET /openapi.json", http.HandlerFunc(h.openAPI)},
	}
}

// ServeHTTP implements http.Handler.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) { h.mux.ServeHTTP(w, r) }

// WriteJSON answers with v as JSON, written as Python's json.dumps writes
// it (<, > and & left as they are) and with its Content-Length. Every route
// of the public API answers through it, so they all encode alike.
func WriteJSON(w http.ResponseWriter, status int, v any) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		status = http.StatusInternalServerError
		buf.Reset()
		buf.WriteString(`{"detail":"Internal Server Error"}` + "\n")
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Content-Length", strconv.Itoa(buf.Len()))
	w.WriteHeader(status)
	_, _ = w.Write(buf.Bytes())
}

type detail struct {
	Detail any `json:"detail"`
}

type message struct {
	Message string `json:"message"`
}

func (h *Handler) fail(w http.ResponseWriter, route, outcome string, status int, msg string) {
	h.results.WithLabelValues(route, outcome).Inc()
	WriteJSON(w, status, detail{msg})
}

// warn logs a failure of a dependency (the pool, the metagraph), at most
// at backing-off intervals while it keeps failing.
func (h *Handler) warn(key, msg string, args ...any) { h.warns.Warn(key, msg, args...) }

// MsgStoreUnavailable answers a request the database could not serve now
// (locked by another process, out of space, unreachable): nothing was
// stored, and the same request may be sent again.
const MsgStoreUnavailable = "The registry database is unavailable, try again later"

func (h *Handler) internal(w http.ResponseWriter, route string, err error) {
	if errors.Is(err, store.ErrUnavailable) {
		h.warn("store", "registry: the database is unavailable", "route", route, "err", err)
		h.fail(w, route, "unavailable", http.StatusServiceUnavailable, MsgStoreUnavailable)
		return
	}
	h.log.Error("registry request failed", "route", route, "err", err)
	h.fail(w, route, "error", http.StatusInternalServerError, "Internal Server Error")
}

// readSigned reads a signed request: the X-Signature header and the body,
// capped. It answers itself (413 or 422) and returns ok=false when the
// request cannot go further; a missing header is reported with the body's
// own errors, as FastAPI collects them.
func (h *Handler) readSigned(w http.ResponseWriter, r *http.Request, route string,
	decode func([]byte) []FieldError) (sig string, ok bool) {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, h.opts.MaxBodyBytes))
	if err != nil {
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			h.fail(w, route, "too_large", http.StatusRequestEntityTooLarge,
				fmt.Sprintf("Request body larger than %d bytes", h.opts.MaxBodyBytes))
			return "", false
		}
		h.fail(w, route, "invalid", http.StatusBadRequest, "Could not read the request body")
		return "", false
	}
	var errs []FieldError
	vals, present := r.Header["X-Signature"]
	if !present {
		errs = append(errs, fieldError("missing", "Field required", nil, "header", "x-signature"))
	} else {
		sig = vals[0]
	}
	errs = append(errs, decode(body)...)
	if len(errs) > 0 {
		h.results.WithLabelValues(route, "invalid").Inc()
		WriteJSON(w, http.StatusUnprocessableEntity, detail{errs})
		return "", false
	}
	return sig, true
}

func (h *Handler) register(w http.ResponseWriter, r *http.Request) {
	const route = "/register"
	ctx := r.Context()
	var req RegisterRequest
	sig, ok := h.readSigned(w, r, route, func(b []byte) []FieldError {
		var errs []FieldError
		req, errs = DecodeRegisterRequest(b)
		return errs
	})
	if !ok {
		return
	}
	now := float64(h.opts.Clock.Now().UnixNano()) / 1e9
	if !(math.Abs(now-req.RegistrationTime) <= h.opts.RegistrationTimeTolerance.Seconds()) {
		h.fail(w, route, "time", http.StatusBadRequest, MsgTimeTooFar)
		return
	}
	if !strings.Contains(req.Worker, req.Hotkey) {
		h.fail(w, route, "name", http.StatusBadRequest, MsgHotkeyNotInWorker)
		return
	}
	// Every check that costs only CPU comes before the pool is asked: an
	// unsigned or foreign request never reaches Prometheus or the database.
	// (The reference asks the pool before checking the signature.)
	sig = strings.ToLower(sig)
	if err := VerifySignature(req.Hotkey, RegistrationMessage(req.Hotkey, req.Worker, req.RegistrationTime), sig); err != nil {
		h.fail(w, route, "signature", http.StatusBadRequest, MsgInvalidSignature)
		return
	}
	if !h.hotkeyRegistered(w, r, route, req.Hotkey) {
		return
	}
	exists, err := h.opts.Workers.WorkerExists(ctx, req.Worker)
	if err != nil {
		h.warn("worker-check", "registry: cannot check the worker on the pool", "worker", truncate(req.Worker, 64), "err", err)
		h.fail(w, route, "unavailable", http.StatusServiceUnavailable, "Could not check the worker on the pool, try again later")
		return
	}
	if !exists {
		h.fail(w, route, "unknown_worker", http.StatusBadRequest, MsgWorkerNotFound+h.opts.PoolWallet)
		return
	}
	m := &store.KaspaMapping{
		Worker:              req.Worker,
		Hotkey:              req.Hotkey,
		RegistrationTime:    req.RegistrationTime,
		RegistrationTimeInt: Micros(req.RegistrationTime),
		Signature:           sig,
		Source:              store.KaspaSourceLocal,
	}
	switch err := h.adds.add(m); {
	case errors.Is(err, store.ErrKaspaWorkerExists):
		h.fail(w, route, "exists", http.StatusBadRequest, MsgAlreadyRegistered)
		return
	case errors.Is(err, store.ErrKaspaWorkerLimit):
		h.fail(w, route, "limit", http.StatusBadRequest, fmt.Sprintf(MsgWorkerLimit, h.opts.MaxWorkersPerHotkey))
		return
	case err != nil:
		h.internal(w, route, err)
		return
	}
	h.results.WithLabelValues(route, "ok").Inc()
	WriteJSON(w, http.StatusOK, message{MsgRegistered})
}

func (h *Handler) unbind(w http.ResponseWriter, r *http.Request) {
	const route = "/unbind"
	ctx := r.Context()
	var req UnbindRequest
	sig, ok := h.readSigned(w, r, route, func(b []byte) []FieldError {
		var errs []FieldError
		req, errs = DecodeUnbindRequest(b)
		return errs
	})
	if !ok {
		return
	}
	sig = strings.ToLower(sig)
	if err := VerifySignature(req.Hotkey, UnbindMessage(req.Hotkey, req.Worker), sig); err != nil {
		h.fail(w, route, "signature", http.StatusBadRequest, MsgInvalidSignature)
		return
	}
	if !h.hotkeyRegistered(w, r, route, req.Hotkey) {
		return
	}
	switch err := h.opts.Store.UnbindKaspaWorker(ctx, req.Hotkey, req.Worker, sig, store.KaspaSourceLocal); {
	case errors.Is(err, store.ErrNotFound):
		h.fail(w, route, "unknown_worker", http.StatusBadRequest, MsgNoSuchBinding)
		return
	case errors.Is(err, store.ErrKaspaAlreadyUnbound):
		h.fail(w, route, "unbound", http.StatusBadRequest, MsgAlreadyUnbound)
		return
	case err != nil:
		h.internal(w, route, err)
		return
	}
	h.event(ctx, "kaspa.registry.unbound", req.Hotkey, req.Worker)
	h.results.WithLabelValues(route, "ok").Inc()
	WriteJSON(w, http.StatusOK, message{MsgUnbound})
}

func (h *Handler) hotkeyRegistered(w http.ResponseWriter, r *http.Request, route, hotkey string) bool {
	// Another spelling of a subnet key (the generic-substrate prefix, say)
	// is not on the subnet, as the reference's string comparison finds:
	// accepting it would give one key a second quota of workers.
	if _, err := CanonicalHotkey(hotkey); err != nil {
		h.fail(w, route, "unregistered", http.StatusBadRequest, MsgHotkeyNotInSubnet)
		return false
	}
	ok, err := h.opts.Hotkeys.HotkeyRegistered(r.Context(), hotkey)
	if err != nil {
		h.warn("hotkey-check", "registry: cannot check the hotkey on the subnet", "hotkey", hotkey, "err", err)
		h.fail(w, route, "unavailable", http.StatusServiceUnavailable, "Could not check the hotkey on the subnet, try again later")
		return false
	}
	if !ok {
		h.fail(w, route, "unregistered", http.StatusBadRequest, MsgHotkeyNotInSubnet)
		return false
	}
	return true
}

// event records a binding change in the audit trail; the change itself is
// already committed, so a failure here is only logged.
func (h *Handler) event(ctx context.Context, kind, hotkey, worker string) {
	d, _ := json.Marshal(map[string]string{"worker": worker})
	if _, err := h.opts.Store.AppendEvent(ctx, store.Event{Kind: kind, Subject: hotkey, Detail: d}); err != nil {
		h.log.Warn("cannot record event", "kind", kind, "err", err)
	}
}

func (h *Handler) mappings(w http.ResponseWriter, r *http.Request) {
	m, err := h.opts.Store.ActiveKaspaMappings(r.Context())
	if err != nil {
		h.internal(w, "/mappings", err)
		return
	}
	WriteJSON(w, http.StatusOK, m)
}

// queryErrors collects 422 entries for query parameters.
type queryErrors []FieldError

func (q *queryErrors) float(r *http.Request, name string, def float64) float64 {
	s, ok := lastQuery(r, name)
	if !ok {
		return def
	}
	f, err := strconv.ParseFloat(strings.TrimSpace(s), 64)
	if err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
		*q = append(*q, fieldError("float_parsing", "Input should be a valid number, unable to parse string as a number", quoteJSON(s), "query", name))
		return def
	}
	return f
}

func (q *queryErrors) int(r *http.Request, name string, def int64, lo, hi int64) int64 {
	s, ok := lastQuery(r, name)
	if !ok {
		return def
	}
	v, err := strconv.ParseInt(strings.TrimSpace(s), 10, 64)
	if err != nil {
		*q = append(*q, fieldError("int_parsing", "Input should be a valid integer, unable to parse string as an integer", quoteJSON(s), "query", name))
		return def
	}
	if v < lo || v > hi {
		e := fieldError("value_error", fmt.Sprintf("Value error, %s must be between %d and %d", name, lo, hi), quoteJSON(s), "query", name)
		*q = append(*q, e)
		return def
	}
	return v
}

// lastQuery returns the last value of a query parameter, as Starlette does.
func lastQuery(r *http.Request, name string) (string, bool) {
	vs, ok := r.URL.Query()[name]
	if !ok || len(vs) == 0 {
		return "", false
	}
	return vs[len(vs)-1], true
}

func quoteJSON(s string) json.RawMessage {
	b, _ := json.Marshal(truncate(s, 64))
	return b
}

// pageBounds reads page_size and page_number. Unlike the reference, which
// has no maximum, page_size is capped; a page_number below 1 counts as 1, as
// the reference's negative SQLite offset does.
func (h *Handler) pageBounds(r *http.Request, q *queryErrors) (size, offset int) {
	size = int(q.int(r, "page_size", defaultPageSize, 1, int64(h.opts.MaxPageSize)))
	page := q.int(r, "page_number", 1, math.MinInt32, math.MaxInt32)
	if page < 1 {
		page = 1
	}
	off := (page - 1) * int64(size)
	if off > math.MaxInt32 {
		off = math.MaxInt32
	}
	return size, int(off)
}

// hotkeyWorkers serves the signed registrations for peer sync. With
// since_timestamp (the reference's form) it pages through active bindings
// registered after that time; unbound ones are left out, not served as
// bound as the reference does. With since_seq it serves the change feed:
// every row changed after that seq, tombstones included, in change order;
// page_number plays no part there, the seq being the cursor.
func (h *Handler) hotkeyWorkers(w http.ResponseWriter, r *http.Request) {
	var qe queryErrors
	size, offset := h.pageBounds(r, &qe)
	_, feed := lastQuery(r, "since_seq")
	var (
		rows []store.KaspaMapping
		err  error
	)
	if feed {
		since := qe.int(r, "since_seq", 0, 0, math.MaxInt64)
		if len(qe) > 0 {
			WriteJSON(w, http.StatusUnprocessableEntity, detail{qe})
			return
		}
		rows, err = h.opts.Store.KaspaChangesSince(r.Context(), since, size)
	} else {
		since := qe.float(r, "since_timestamp", 0)
		if len(qe) > 0 {
			WriteJSON(w, http.StatusUnprocessableEntity, detail{qe})
			return
		}
		rows, err = h.opts.Store.KaspaMappingsSince(r.Context(), Micros(since), size, offset)
	}
	if err != nil {
		h.internal(w, "/hotkey_workers", err)
		return
	}
	out := make([]WorkerRow, 0, len(rows))
	for _, m := range rows {
		out = append(out, rowOf(m, feed))
	}
	WriteJSON(w, http.StatusOK, out)
}

func (h *Handler) syncOffsets(w http.ResponseWriter, r *http.Request) {
	var qe queryErrors
	size, offset := h.pageBounds(r, &qe)
	if len(qe) > 0 {
		WriteJSON(w, http.StatusUnprocessableEntity, detail{qe})
		return
	}
	offs, err := h.opts.Store.KaspaSyncOffsets(r.Context(), size, offset)
	if err != nil {
		h.internal(w, "/validator_sync_offsets", err)
		return
	}
	out := make([]SyncOffsetRow, 0, len(offs))
	for _, o := range offs {
		out = append(out, SyncOffsetRow{
			Hotkey:               o.Hotkey,
			LastRegistrationTime: PyFloat(o.LastRegistrationTime),
			LastSyncTime:         unixSeconds(o.LastSyncAt),
			LastSeq:              o.LastSeq,
		})
	}
	WriteJSON(w, http.StatusOK, out)
}

func (h *Handler) openAPI(w http.ResponseWriter, r *http.Request) {
	instance, err := h.registryInstance(r.Context())
	if err != nil {
		h.internal(w, "/openapi.json", err)
		return
	}
	WriteJSON(w, http.StatusOK, openAPIDoc{
		OpenAPI: "3.1.0",
		Info:    openAPIInfo{Title: Title, Version: h.opts.Version, Feed: FeedVersion, Instance: instance},
		Paths:   openAPIPaths(),
	})
}

// registryInstance reads the store's registry name once: every peer asks
// for /openapi.json before each sync run.
func (h *Handler) registryInstance(ctx context.Context) (string, error) {
	h.instanceMu.Lock()
	defer h.instanceMu.Unlock()
	if h.instance == "" {
		id, err := h.opts.Store.KaspaRegistryInstance(ctx)
		if err != nil {
			return "", err
		}
		h.instance = id
	}
	return h.instance, nil
}
