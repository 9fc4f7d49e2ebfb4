// Package axon serves synapses over HTTP as the Bittensor SDK's axon does,
// so Python dendrites call it unchanged: POST or GET /<SynapseName>, the
// SDK's pipeline in its order (headers → blacklist → verification →
// priority → body integrity → handler) and its status codes, body and
// bt_header_axon_* headers.
//
// It is stricter than the SDK where the SDK is unsafe: an unsigned request
// is refused (401), nonces far in the future are refused, the nonce window
// uses a bounded timeout, the nonce memory is bounded, bodies are capped,
// and each hotkey is rate-limited.
package axon

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"reflect"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/vigil-validator/vigil/bittensor/keys"
	"github.com/vigil-validator/vigil/bittensor/synapse"
)

// Defaults.
const (
	DefaultMaxBody        = 4 << 20
	DefaultMaxEndpoints   = 100_000
	DefaultRateLimit      = 600 // requests per hotkey per RateWindow
	DefaultRateWindow     = time.Minute
	DefaultMaxFutureNonce = 60 * time.Second
	DefaultMaxTimeout     = 120 * time.Second
	DefaultReadTimeout    = 30 * time.Second
	// MaxHeaderBytes caps a request's headers; the SDK's are a few KiB.
	MaxHeaderBytes = 64 << 10
	// AllowedDelta is the SDK's slack for a first nonce's age, besides the
	// synapse's timeout.
	AllowedDelta = 4 * time.Second
	// NewNonceRuleVersion is the dendrite version from which the SDK checks
	// a first nonce's age.
	NewNonceRuleVersion = 7002000
)

// Request is what the hooks see of a call, all of it from the headers:
// the dendrite's claimed hotkey (proved by the time the handler runs),
// its uuid and socket address, and the synapse's name.
type Request struct {
	Synapse string
	Hotkey  string
	UUID    string
	IP      string
	Port    int
}

// Blacklist decides whether to refuse a caller before its signature is
// checked; the reason is sent back.
type Blacklist func(ctx context.Context, r Request) (blocked bool, reason string)

// Priority runs after verification; an error refuses the call with 503.
type Priority func(ctx context.Context, r Request) error

// Config configures an Axon.
type Config struct {
	// Hotkey is the axon's own key: requests must be signed for it.
	Hotkey *keys.KeyPair
	// Blacklist applies to every synapse, before a synapse's own.
	Blacklist Blacklist
	// Priority applies to every synapse.
	Priority Priority
	// MaxBody caps a request body (default 4 MiB).
	MaxBody int64
	// MaxEndpoints bounds the remembered (hotkey, uuid) nonces (default
	// 100,000).
	MaxEndpoints int
	// RateLimit requests per hotkey per RateWindow (default 600 per
	// minute); 0 uses the default, a negative value disables the limit.
	RateLimit  int
	RateWindow time.Duration
	// MaxFutureNonce refuses nonces further ahead of the clock (default
	// 60 s); the SDK accepts any.
	MaxFutureNonce time.Duration
	// MaxTimeout bounds the synapse timeout used in the nonce window
	// (default 120 s).
	MaxTimeout time.Duration
	// ReadTimeout bounds reading a request, headers and body (default
	// 30 s); WriteTimeout bounds the whole exchange, handler included
	// (default MaxTimeout + 10 s). They apply to the server of Serve.
	ReadTimeout  time.Duration
	WriteTimeout time.Duration
	// Now is the clock (default time.Now).
	Now func() time.Time
	Log *slog.Logger
}

// Axon routes synapses to handlers. Create it with New, add handlers with
// Handle, and serve it as an http.Handler.
type Axon struct {
	cfg    Config
	uuid   string
	hotkey string

	mu     sync.RWMutex
	routes map[string]*route

	nonces *nonceStore
	rate   *RateLimiter
}

type route struct {
	typ       reflect.Type // the synapse struct type
	handle    func(ctx context.Context, s synapse.Synapse) error
	blacklist Blacklist
}

// New builds an Axon.
func New(cfg Config) (*Axon, error) {
	if cfg.Hotkey == nil {
		return nil, errors.New("axon: no hotkey specified")
	}
	if cfg.MaxBody <= 0 {
		cfg.MaxBody = DefaultMaxBody
	}
	if cfg.MaxEndpoints <= 0 {
		cfg.MaxEndpoints = DefaultMaxEndpoints
	}
	if cfg.RateLimit == 0 {
		cfg.RateLimit = DefaultRateLimit
	}
	if cfg.RateWindow <= 0 {
		cfg.RateWindow = DefaultRateWindow
	}
	if cfg.MaxFutureNonce <= 0 {
		cfg.MaxFutureNonce = DefaultMaxFutureNonce
	}
	if cfg.MaxTimeout <= 0 {
		cfg.MaxTimeout = DefaultMaxTimeout
	}
	if cfg.ReadTimeout <= 0 {
		cfg.ReadTimeout = DefaultReadTimeout
	}
	if cfg.WriteTimeout <= 0 {
		cfg.WriteTimeout = cfg.MaxTimeout + 10*time.Second
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	cfg.Log = cfg.Log.With("component", "axon")
	a := &Axon{cfg: cfg, uuid: synapse.NewUUID(), hotkey: cfg.Hotkey.SS58(), routes: map[string]*route{},
		nonces: newNonceStore(cfg.MaxEndpoints)}
	if cfg.RateLimit > 0 {
		a.rate = NewRateLimiter(cfg.RateLimit, cfg.RateWindow, cfg.MaxEndpoints)
	}
	return a, nil
}

// Server is an http.Server for the axon with its read and write timeouts
// and a header cap, so that slow or oversized clients cannot hold
// connections.
func (a *Axon) Server() *http.Server {
	return &http.Server{
		Handler:           a,
		ReadHeaderTimeout: min(10*time.Second, a.cfg.ReadTimeout),
		ReadTimeout:       a.cfg.ReadTimeout,
		WriteTimeout:      a.cfg.WriteTimeout,
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    MaxHeaderBytes,
		ErrorLog:          slog.NewLogLogger(a.cfg.Log.Handler(), slog.LevelDebug),
	}
}

// Serve serves the axon on ln until ctx ends, then shuts down, giving
// calls in flight up to five seconds.
func (a *Axon) Serve(ctx context.Context, ln net.Listener) error {
	srv := a.Server()
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ln) }()
	select {
	case err := <-done:
		return err
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	err := srv.Shutdown(sctx)
	if e := <-done; !errors.Is(e, http.ErrServerClosed) && err == nil {
		err = e
	}
	return err
}

// Hotkey is the axon's SS58 hotkey.
func (a *Axon) Hotkey() string { return a.hotkey }

// Handle serves the synapse type S (a pointer to a struct embedding
// synapse.Base) at /<its name> with fn, which fills the response fields in
// place. A blacklist given here runs after the axon's.
func Handle[S synapse.Synapse](a *Axon, fn func(ctx context.Context, s S) error, blacklist Blacklist) {
	var zero S
	t := reflect.TypeOf(zero)
	if t == nil || t.Kind() != reflect.Pointer || t.Elem().Kind() != reflect.Struct {
		panic("axon.Handle: the synapse type must be a pointer to a struct")
	}
	name := synapse.Name(reflect.New(t.Elem()).Interface().(synapse.Synapse))
	a.mu.Lock()
	defer a.mu.Unlock()
	a.routes[name] = &route{typ: t.Elem(), blacklist: blacklist,
		handle: func(ctx context.Context, s synapse.Synapse) error { return fn(ctx, s.(S)) }}
}

// callError is a refusal with the SDK's status code and message.
type callError struct {
	status int
	msg    string
}

func fail(status int, format string, args ...any) *callError {
	return &callError{status, fmt.Sprintf(format, args...)}
}

// ServeHTTP runs the pipeline.
func (a *Axon) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	start := a.cfg.Now()
	if r.Method != http.MethodPost && r.Method != http.MethodGet {
		a.writeError(w, nil, fail(http.StatusMethodNotAllowed, "Method not allowed"), start)
		return
	}
	name := strings.TrimPrefix(r.URL.Path, "/")
	a.mu.RLock()
	rt := a.routes[name]
	a.mu.RUnlock()
	if rt == nil || name == "" || strings.Contains(name, "/") {
		a.writeError(w, nil, fail(http.StatusNotFound, "Synapse name '%s' not found. Available synapses %s", name, a.names()), start)
		return
	}
	s := reflect.New(rt.typ).Interface().(synapse.Synapse)
	if err := synapse.FromHeaders(r.Header, s); err != nil {
		a.writeError(w, s, fail(http.StatusBadRequest, "Improperly formatted request. Could not parse headers %v into synapse of type %s.", err, name), start)
		return
	}
	a.stamp(s, r)
	req := requestOf(name, s)
	if cerr := a.admit(r.Context(), rt, req, s); cerr != nil {
		a.writeError(w, s, cerr, start)
		return
	}
	if cerr := a.readBody(w, r, rt, s); cerr != nil {
		a.writeError(w, s, cerr, start)
		return
	}
	b := synapse.BaseOf(s)
	ctx, cancel := context.WithTimeout(r.Context(), time.Duration(b.TimeoutSeconds()*float64(time.Second)))
	err := rt.handle(ctx, s)
	cancel()
	if err != nil {
		id := synapse.NewUUID()
		a.cfg.Log.Warn("handler failed", "synapse", name, "hotkey", req.Hotkey, "err", err, "error_id", id)
		a.writeError(w, s, fail(http.StatusInternalServerError, "Internal Server Error #%s", id), start)
		return
	}
	a.writeOK(w, s, start)
}

func (a *Axon) names() []string {
	a.mu.RLock()
	defer a.mu.RUnlock()
	out := make([]string, 0, len(a.routes))
	for n := range a.routes {
		out = append(out, n)
	}
	return out
}

// stamp sets what the axon knows of the call: its own terminal info and
// the caller's socket address, whatever the headers claimed.
func (a *Axon) stamp(s synapse.Synapse, r *http.Request) {
	b := synapse.BaseOf(s)
	version, nonce, code, hotkey, uuid := synapse.Version, a.cfg.Now().UnixNano(), 100, a.hotkey, a.uuid
	b.Axon.Version, b.Axon.Nonce, b.Axon.StatusCode, b.Axon.Hotkey, b.Axon.UUID = &version, &nonce, &code, &hotkey, &uuid
	if host, port, err := net.SplitHostPort(r.RemoteAddr); err == nil {
		p, _ := strconv.Atoi(port)
		b.Dendrite.IP, b.Dendrite.Port = &host, &p
	}
}

func requestOf(name string, s synapse.Synapse) Request {
	b := synapse.BaseOf(s)
	return Request{Synapse: name, Hotkey: deref(b.Dendrite.Hotkey), UUID: deref(b.Dendrite.UUID), IP: deref(b.Dendrite.IP), Port: derefInt(b.Dendrite.Port)}
}

func deref(p *string) string {
	if p == nil {
		return ""
	}
	return *p
}

func derefInt(p *int) int {
	if p == nil {
		return 0
	}
	return *p
}

// admit runs the blacklists, the verification and the rate limit and
// priority hooks.
func (a *Axon) admit(ctx context.Context, rt *route, req Request, s synapse.Synapse) *callError {
	for _, bl := range []Blacklist{a.cfg.Blacklist, rt.blacklist} {
		if bl == nil {
			continue
		}
		if blocked, reason := bl(ctx, req); blocked {
			return fail(http.StatusForbidden, "Forbidden. Key is blacklisted: %s.", reason)
		}
	}
	caller, cerr := a.verify(s)
	if cerr != nil {
		return cerr
	}
	// Counted after verification, so that nobody can spend another
	// hotkey's allowance with forged requests, and under the canonical
	// address, so that another spelling of the key gets no second one.
	if a.rate != nil && !a.rate.Allow(caller, a.cfg.Now()) {
		return fail(http.StatusTooManyRequests, "Too many requests from %s", req.Hotkey)
	}
	if a.cfg.Priority != nil {
		if err := a.cfg.Priority(ctx, req); err != nil {
			return fail(http.StatusServiceUnavailable, "Response failed: priority: %v", err)
		}
	}
	return nil
}

// verify checks the nonce and the signature as the SDK's default verifier
// does, refusing unsigned requests, and returns the caller's canonical
// SS58 address.
func (a *Axon) verify(s synapse.Synapse) (string, *callError) {
	b := synapse.BaseOf(s)
	d := b.Dendrite
	switch {
	case d.Hotkey == nil || *d.Hotkey == "":
		return "", fail(http.StatusUnauthorized, "Not Verified with error: missing dendrite hotkey")
	case d.Nonce == nil:
		return "", fail(http.StatusUnauthorized, "Not Verified with error: Nonce is required")
	case d.UUID == nil:
		return "", fail(http.StatusUnauthorized, "Not Verified with error: missing dendrite uuid")
	case d.Signature == nil || *d.Signature == "":
		return "", fail(http.StatusUnauthorized, "Not Verified with error: request is not signed")
	}
	pub, err := keys.ParsePublicKey(*d.Hotkey)
	if err != nil {
		return "", fail(http.StatusUnauthorized, "Not Verified with error: bad dendrite hotkey")
	}
	sig, err := hex.DecodeString(strings.TrimPrefix(*d.Signature, "0x"))
	if err != nil || len(sig) != keys.SignatureSize {
		return "", fail(http.StatusUnauthorized, "Not Verified with error: malformed signature")
	}
	now := a.cfg.Now()
	nonce := *d.Nonce
	if nonce > now.Add(a.cfg.MaxFutureNonce).UnixNano() {
		return "", fail(http.StatusUnauthorized, "Not Verified with error: Nonce is too far in the future")
	}
	timeout := min(time.Duration(b.TimeoutSeconds()*float64(time.Second)), a.cfg.MaxTimeout)
	oldest := now.Add(-AllowedDelta - timeout).UnixNano()
	modern := d.Version != nil && *d.Version >= NewNonceRuleVersion
	hash := ""
	if b.ComputedBodyHash != nil {
		hash = *b.ComputedBodyHash
	}
	msg := synapse.SignatureMessage(nonce, *d.Hotkey, a.hotkey, *d.UUID, hash)
	if !keys.Verify(pub, msg, sig) {
		return "", fail(http.StatusUnauthorized, "Not Verified with error: Signature mismatch with %s and %s", msg, *d.Signature)
	}
	// The nonce is recorded only for a valid signature, so a forger cannot
	// advance someone's nonce.
	if reason := a.nonces.check(*d.Hotkey+":"+*d.UUID, nonce, modern, oldest, now.UnixNano()); reason != "" {
		return "", fail(http.StatusUnauthorized, "Not Verified with error: %s", reason)
	}
	return pub.SS58(), nil
}

// readBody reads the capped body into the synapse and checks it against
// the signed body hash. Header-derived base fields win over the body's.
func (a *Axon) readBody(w http.ResponseWriter, r *http.Request, rt *route, s synapse.Synapse) *callError {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, a.cfg.MaxBody))
	var mbe *http.MaxBytesError
	switch {
	case errors.As(err, &mbe):
		return fail(http.StatusRequestEntityTooLarge, "Request body over %d bytes", a.cfg.MaxBody)
	case err != nil:
		return fail(http.StatusBadRequest, "Could not read the request body: %v", err)
	}
	b := synapse.BaseOf(s)
	fromHeaders := *b
	if len(strings.TrimSpace(string(body))) > 0 {
		if err := synapse.Decode(s, body); err != nil {
			return fail(http.StatusBadRequest, "Improperly formatted request body: %v", err)
		}
	}
	*synapse.BaseOf(s) = fromHeaders
	hash, err := synapse.BodyHash(s)
	if err != nil {
		return fail(http.StatusBadRequest, "Body hash: %v", err)
	}
	if fromHeaders.ComputedBodyHash == nil || hash != *fromHeaders.ComputedBodyHash {
		id := synapse.NewUUID()
		a.cfg.Log.Info("body hash mismatch", "synapse", rt.typ.Name(), "hotkey", deref(fromHeaders.Dendrite.Hotkey), "error_id", id)
		return fail(http.StatusInternalServerError, "Internal Server Error #%s", id)
	}
	return nil
}

func (a *Axon) finish(s synapse.Synapse, status int, msg string, start time.Time) {
	if s == nil {
		return
	}
	b := synapse.BaseOf(s)
	pt := a.cfg.Now().Sub(start).Seconds()
	b.Axon.StatusCode, b.Axon.StatusMessage, b.Axon.ProcessTime = &status, &msg, &pt
}

func (a *Axon) writeOK(w http.ResponseWriter, s synapse.Synapse, start time.Time) {
	a.finish(s, http.StatusOK, "Success", start)
	body, err := json.Marshal(s)
	if err != nil {
		a.writeError(w, s, fail(http.StatusInternalServerError, "Internal Server Error: %v", err), start)
		return
	}
	a.writeHeaders(w, s)
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(body)
}

func (a *Axon) writeError(w http.ResponseWriter, s synapse.Synapse, e *callError, start time.Time) {
	a.finish(s, e.status, e.msg, start)
	a.writeHeaders(w, s)
	if s == nil {
		code := strconv.Itoa(e.status)
		w.Header()["bt_header_axon_status_code"] = []string{code}
		w.Header()["bt_header_axon_status_message"] = []string{e.msg}
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(e.status)
	body, _ := json.Marshal(map[string]string{"message": e.msg})
	_, _ = w.Write(body)
}

func (a *Axon) writeHeaders(w http.ResponseWriter, s synapse.Synapse) {
	if s == nil {
		return
	}
	h, err := synapse.ToHeaders(s)
	if err != nil {
		return
	}
	for k, v := range h {
		w.Header()[k] = v
	}
}
