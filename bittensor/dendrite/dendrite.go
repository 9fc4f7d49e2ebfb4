// Package dendrite calls axons as the Bittensor SDK's dendrite does: every
// header a Python axon needs, time-ns nonces strictly increasing for a
// stable uuid, the body hash and the signature, a timeout per call, and the
// SDK's mapping of failures to status codes in the synapse's terminal
// info.
package dendrite

import (
	"bytes"
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"reflect"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/vigil-validator/vigil/bittensor/keys"
	"github.com/vigil-validator/vigil/bittensor/synapse"
)

// MaxResponse caps a response body.
const MaxResponse = 16 << 20

// Target is an axon to call.
type Target struct {
	IP     string
	Port   int
	Hotkey string // SS58
}

// Dendrite signs and sends synapses. It is safe for concurrent use.
//
// An axon wants one uuid's nonces in increasing order, so with the SDK's
// dendrite overlapping calls to one axon can overtake each other on the way
// and be refused (401). Here each call in flight holds a lane, a uuid with
// its own nonces: calls that do not overlap all use the dendrite's uuid,
// and an overlapping call takes another lane, made when first needed and
// kept for reuse.
type Dendrite struct {
	key *keys.KeyPair
	// ExternalIP is sent as dendrite.ip (the axon replaces it with the
	// socket's address anyway).
	ExternalIP string
	HTTP       *http.Client
	Now        func() time.Time

	mu          sync.Mutex
	primary     *lane
	primaryBusy bool
	spare       []*lane // idle extra lanes
}

// lane is a uuid and the last nonce sent under it; one call uses it at a
// time.
type lane struct {
	uuid string
	last int64
}

// New returns a dendrite signing with key, with a fresh uuid it keeps for
// its lifetime.
func New(key *keys.KeyPair) (*Dendrite, error) {
	if key == nil || !key.CanSign() {
		return nil, errors.New("dendrite: no signing key specified")
	}
	return &Dendrite{key: key, primary: &lane{uuid: synapse.NewUUID()},
		ExternalIP: "0.0.0.0", HTTP: &http.Client{Transport: defaultTransport}}, nil
}

var defaultTransport = &http.Transport{
	Proxy:               nil,
	DialContext:         (&net.Dialer{Timeout: 10 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
	MaxIdleConns:        1024,
	MaxIdleConnsPerHost: 16,
	IdleConnTimeout:     90 * time.Second,
}

// UUID is the dendrite's uuid, the one every call uses unless calls
// overlap.
func (d *Dendrite) UUID() string { return d.primary.uuid }

// Hotkey is the dendrite's SS58 hotkey.
func (d *Dendrite) Hotkey() string { return d.key.SS58() }

// acquire takes the primary lane when it is free, else a spare one.
func (d *Dendrite) acquire() *lane {
	d.mu.Lock()
	defer d.mu.Unlock()
	if !d.primaryBusy {
		d.primaryBusy = true
		return d.primary
	}
	if n := len(d.spare); n > 0 {
		l := d.spare[n-1]
		d.spare = d.spare[:n-1]
		return l
	}
	return &lane{uuid: synapse.NewUUID()}
}

func (d *Dendrite) release(l *lane) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if l == d.primary {
		d.primaryBusy = false
	} else {
		d.spare = append(d.spare, l)
	}
}

// nonce is the time in nanoseconds, or one more than the lane's last
// nonce when the clock has not moved past it.
func (d *Dendrite) nonce(l *lane) int64 {
	now := time.Now
	if d.Now != nil {
		now = d.Now
	}
	l.last = max(now().UnixNano(), l.last+1)
	return l.last
}

// Call sends s to target and fills it from the answer. It returns an
// error only for a synapse it cannot send (a field without a Python form);
// failures of the call itself are in s's dendrite and axon status codes,
// as the SDK reports them (Success tells).
func (d *Dendrite) Call(ctx context.Context, target Target, s synapse.Synapse) error {
	start := time.Now()
	b := synapse.BaseOf(s)
	name := synapse.Name(s)
	timeout := b.TimeoutSeconds()
	l := d.acquire()
	defer d.release(l)
	if err := d.prepare(target, s, l, name, timeout); err != nil {
		return err
	}
	body, err := json.Marshal(s)
	if err != nil {
		return fmt.Errorf("dendrite: %s: %w", name, err)
	}
	h, err := synapse.ToHeaders(s)
	if err != nil {
		return err
	}
	status, msg := d.send(ctx, target, name, timeout, h, body, s)
	b.Dendrite.StatusCode, b.Dendrite.StatusMessage = &status, &msg
	if b.Axon.StatusCode == nil || status != http.StatusOK && *b.Axon.StatusCode == http.StatusOK {
		b.Axon.StatusCode, b.Axon.StatusMessage = &status, &msg
	}
	pt := time.Since(start).Seconds()
	b.Dendrite.ProcessTime = &pt
	return nil
}

// prepare fills the terminal infos, the body hash and the signature.
func (d *Dendrite) prepare(target Target, s synapse.Synapse, l *lane, name string, timeout float64) error {
	b := synapse.BaseOf(s)
	hash, err := synapse.BodyHash(s)
	if err != nil {
		return err
	}
	version, nonce, uuid, hotkey, ip := synapse.Version, d.nonce(l), l.uuid, d.key.SS58(), d.ExternalIP
	sig, err := d.key.Sign(synapse.SignatureMessage(nonce, hotkey, target.Hotkey, uuid, hash))
	if err != nil {
		return err
	}
	sigHex := "0x" + hex.EncodeToString(sig[:])
	b.Name, b.Timeout, b.ComputedBodyHash = &name, &timeout, &hash
	b.Dendrite = synapse.TerminalInfo{IP: &ip, Version: &version, Nonce: &nonce, UUID: &uuid, Hotkey: &hotkey, Signature: &sigHex}
	axIP, axPort, axHotkey := target.IP, target.Port, target.Hotkey
	b.Axon = synapse.TerminalInfo{IP: &axIP, Port: &axPort, Hotkey: &axHotkey}
	return nil
}

// send posts the request and merges the answer, returning the SDK's status
// code and message for the call.
func (d *Dendrite) send(ctx context.Context, target Target, name string, timeout float64, h http.Header, body []byte, s synapse.Synapse) (int, string) {
	ctx, cancel := context.WithTimeout(ctx, time.Duration(timeout*float64(time.Second)))
	defer cancel()
	u := url.URL{Scheme: "http", Host: net.JoinHostPort(target.IP, strconv.Itoa(target.Port)), Path: "/" + name}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u.String(), bytes.NewReader(body))
	if err != nil {
		return http.StatusBadRequest, "Invalid request: " + err.Error()
	}
	for k, v := range h {
		req.Header[k] = v
	}
	req.Header.Set("Content-Type", "application/json")
	hc := d.HTTP
	if hc == nil {
		hc = http.DefaultClient
	}
	resp, err := hc.Do(req)
	if err != nil {
		return failure(err, timeout, u.Host)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, MaxResponse+1))
	if err != nil {
		return failure(err, timeout, u.Host)
	}
	if len(raw) > MaxResponse {
		return http.StatusBadRequest, fmt.Sprintf("Response over %d bytes", MaxResponse)
	}
	b := synapse.BaseOf(s)
	ours := *b
	status, msg := resp.StatusCode, ""
	if resp.StatusCode == http.StatusOK {
		if err := synapse.Decode(s, raw); err != nil {
			return http.StatusBadRequest, "Invalid response body: " + err.Error()
		}
		// What we sent about ourselves stands; the axon's view of itself
		// comes from its answer.
		nb := synapse.BaseOf(s)
		nb.Dendrite, nb.Name, nb.Timeout, nb.ComputedBodyHash = ours.Dendrite, ours.Name, ours.Timeout, ours.ComputedBodyHash
		msg = "Success"
	} else {
		var e struct {
			Message string `json:"message"`
		}
		if json.Unmarshal(raw, &e) == nil && e.Message != "" {
			msg = e.Message
		} else {
			msg = strings.TrimSpace(string(raw))
		}
		b.Axon.StatusCode, b.Axon.StatusMessage = &status, &msg
	}
	mergeAxonHeaders(resp.Header, s)
	nb := synapse.BaseOf(s)
	if nb.Axon.StatusMessage != nil && resp.StatusCode == http.StatusOK {
		msg = *nb.Axon.StatusMessage
	}
	return status, msg
}

// mergeAxonHeaders copies the set bt_header_axon_* values of the answer
// into the synapse.
func mergeAxonHeaders(h http.Header, s synapse.Synapse) {
	axon := http.Header{}
	for k, v := range h {
		if strings.HasPrefix(strings.ToLower(k), synapse.PrefixAxon) {
			axon[k] = v
		}
	}
	tmp := &synapse.Base{}
	if synapse.FromHeaders(axon, tmp) != nil {
		return
	}
	b := synapse.BaseOf(s)
	mergeTerminal(&b.Axon, &tmp.Axon)
}

func mergeTerminal(dst, src *synapse.TerminalInfo) {
	dv, sv := reflect.ValueOf(dst).Elem(), reflect.ValueOf(src).Elem()
	for i := range sv.NumField() {
		if !sv.Field(i).IsNil() {
			dv.Field(i).Set(sv.Field(i))
		}
	}
}

// failure maps a transport error to the SDK's status code and message.
func failure(err error, timeout float64, host string) (int, string) {
	var ne net.Error
	switch {
	case errors.Is(err, context.DeadlineExceeded) || errors.As(err, &ne) && ne.Timeout():
		return http.StatusRequestTimeout, fmt.Sprintf("Request timeout after %s seconds", strconv.FormatFloat(timeout, 'f', -1, 64))
	case errors.Is(err, context.Canceled):
		return http.StatusServiceUnavailable, "Request cancelled"
	}
	var oe *net.OpError
	if errors.As(err, &oe) {
		return http.StatusServiceUnavailable, "Service at " + host + " unavailable."
	}
	return 422, "Failed to parse response: " + err.Error()
}

// Success reports whether the call succeeded (the SDK's is_success).
func Success(s synapse.Synapse) bool {
	c := synapse.BaseOf(s).Dendrite.StatusCode
	return c != nil && *c == http.StatusOK
}

// CallMany calls every target concurrently, each with its own synapse from
// newSynapse, and returns them in the targets' order.
func CallMany[S synapse.Synapse](ctx context.Context, d *Dendrite, targets []Target, newSynapse func(Target) S) ([]S, error) {
	out := make([]S, len(targets))
	errs := make([]error, len(targets))
	var wg sync.WaitGroup
	for i, t := range targets {
		out[i] = newSynapse(t)
		wg.Go(func() { errs[i] = d.Call(ctx, t, out[i]) })
	}
	wg.Wait()
	return out, errors.Join(errs...)
}
