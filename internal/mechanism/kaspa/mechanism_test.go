package kaspa

import (
	"github.com/vigil-validator/vigil/internal/store"
	"io"
	"math"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/vigil-validator/vigil/bittensor/keys"
	"github.com/vigil-validator/vigil/bittensor/scale"
	"github.com/vigil-validator/vigil/bittensor/subtensor"
	"github.com/vigil-validator/vigil/internal/clock"
	"github.com/vigil-validator/vigil/internal/mechanism"
	"github.com/vigil-validator/vigil/internal/mechanism/kaspa/rating"
	"github.com/vigil-validator/vigil/internal/mechanism/kaspa/registry"
	"github.com/vigil-validator/vigil/internal/store/storetest"
)

// stakelessPeer is a metagraph with one validator serving its API on an
// IPv4 axon and holding no stake at all.
func stakelessPeer(t *testing.T) *subtensor.Metagraph {
	t.Helper()
	bob, err := keys.FromURI("//Bob")
	if err != nil {
		t.Fatal(err)
	}
	ip := uint64(127)<<24 | 1
	return &subtensor.Metagraph{Neurons: []subtensor.Neuron{{
		Hotkey: subtensor.AccountID(bob.PublicKey()),
		Axon:   subtensor.AxonInfo{IP: scale.Uint128{Lo: ip}, Port: 8000, IPType: 4},
	}}}
}

// holding is a metagraph holder holding mg.
func holding(mg *subtensor.Metagraph) *mechanism.Metagraph {
	h := &mechanism.Metagraph{}
	h.Store(mg)
	return h
}

// settings are DefaultSettings with edit applied, against a Prometheus
// that is not there.
func settings(edit func(s *Settings)) Settings {
	s := DefaultSettings()
	s.PrometheusEndpoint = "http://127.0.0.1:9"
	if edit != nil {
		edit(&s)
	}
	return s
}

func newForSettings(t *testing.T, cfg Settings) (*Mechanism, error) {
	t.Helper()
	return New(cfg, mechanism.Deps{Store: storetest.Open(t, "sqlite", clock.Real()), Metagraph: holding(stakelessPeer(t))})
}

// TestExplicitZeroReachesTheMechanism: rating_alpha 0 (uptime ignored) and
// min_peer_stake 0 (every serving validator synced) are settings, not
// requests for the defaults; the defaults come from DefaultSettings.
func TestExplicitZeroReachesTheMechanism(t *testing.T) {
	m, err := newForSettings(t, settings(func(s *Settings) { s.RatingAlpha, s.MinPeerStake = 0, 0 }))
	if err != nil {
		t.Fatal(err)
	}
	if a := m.calc.Params().UptimeAlpha; a != 0 {
		t.Errorf("uptime alpha %v, want 0", a)
	}
	if peers := m.Peers(); len(peers) != 1 {
		t.Errorf("peers with min stake 0: %v, want the stakeless validator", peers)
	}

	m, err = newForSettings(t, settings(nil))
	if err != nil {
		t.Fatal(err)
	}
	if a := m.calc.Params().UptimeAlpha; a != rating.DefaultUptimeAlpha {
		t.Errorf("default uptime alpha %v, want %v", a, rating.DefaultUptimeAlpha)
	}
	if m.cfg.MinPeerStake != registry.DefaultMinPeerStake || len(m.Peers()) != 0 {
		t.Errorf("default min stake %v let in %v", m.cfg.MinPeerStake, m.Peers())
	}

	for _, bad := range []float64{-1, math.NaN()} {
		if _, err := newForSettings(t, settings(func(s *Settings) { s.MinPeerStake = bad })); err == nil {
			t.Errorf("min peer stake %v accepted", bad)
		}
		if _, err := newForSettings(t, settings(func(s *Settings) { s.RatingAlpha = bad })); err == nil {
			t.Errorf("rating alpha %v accepted", bad)
		}
		for _, edit := range []func(s *Settings){func(s *Settings) { s.MinPeerStake = bad }, func(s *Settings) { s.RatingAlpha = bad }} {
			if err := settings(edit).Validate(); err == nil {
				t.Errorf("Validate accepted %v", bad)
			}
		}
	}
	if err := settings(nil).Validate(); err != nil {
		t.Errorf("the defaults: %v", err)
	}
}

// TestMetricsWritesNamesAsPythonDoes: /metrics encodes like the registry
// routes and json.dumps, leaving <, > and & in worker names as they are.
func TestMetricsWritesNamesAsPythonDoes(t *testing.T) {
	m, err := newForSettings(t, settings(nil))
	if err != nil {
		t.Fatal(err)
	}
	const worker = "rig<1>&" + "5GrwvaEF5zXb26Fz9rcQpDWS57CtERHpNehXCPcNoHGKutQY"
	m.cached = &scoreSet{at: m.deps.Clock.Now(), ratings: map[string]float64{},
		byHK: map[string][]rating.WorkerMetrics{"5GrwvaEF5zXb26Fz9rcQpDWS57CtERHpNehXCPcNoHGKutQY": {{Worker: worker}}}}
	rec := httptest.NewRecorder()
	m.API().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/metrics", nil))
	body := rec.Body.String()
	if rec.Code != http.StatusOK || !strings.Contains(body, `"worker_name":"`+worker+`"`) {
		t.Fatalf("/metrics: %d %s", rec.Code, body)
	}
	if cl := rec.Header().Get("Content-Length"); cl != strconv.Itoa(len(body)) {
		t.Errorf("Content-Length %q for a body of %d bytes", cl, len(body))
	}
}

// TestHealthSaysTheStoreIsUnavailable: the public /health answers 503 with
// the reason while registrations cannot be stored, not {"status": "OK"}.
func TestHealthSaysTheStoreIsUnavailable(t *testing.T) {
	ctx := t.Context()
	path := filepath.Join(t.TempDir(), "vigil.db")
	st := storetest.OpenSQLiteAt(t, path, 100*time.Millisecond, clock.Real())
	mg := stakelessPeer(t)
	m, err := New(settings(nil), mechanism.Deps{Store: st, Metagraph: holding(mg)})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(m.API())
	defer srv.Close()
	health := func() (int, string) {
		resp, err := http.Get(srv.URL + "/health")
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	if code, body := health(); code != 200 || !strings.Contains(body, `"OK"`) {
		t.Fatalf("health: %d %s", code, body)
	}
	storetest.LockSQLite(t, path)
	w := &store.KaspaMapping{Worker: "w", Hotkey: "5Hk", RegistrationTime: 1, RegistrationTimeInt: 1e6, Signature: "00", Source: store.KaspaSourceLocal}
	if err := st.AddKaspaMapping(ctx, w, 30); err == nil {
		t.Fatal("a write went through the lock")
	}
	if code, body := health(); code != http.StatusServiceUnavailable || !strings.Contains(body, "unavailable") {
		t.Errorf("health with the database locked: %d %s, want 503 with the reason", code, body)
	}
}
