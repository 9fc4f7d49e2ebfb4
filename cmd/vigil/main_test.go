package main

import (
	"bufio"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/vigil-validator/vigil/internal/localnet"
	"github.com/vigil-validator/vigil/internal/localnet/localnettest"
	"github.com/vigil-validator/vigil/internal/store/storetest"
)

// The test binary doubles as vigil, so the tests below run the real main in
// a child process and can send it real signals.
func TestMain(m *testing.M) {
	if os.Getenv("VIGIL_TEST_AS_MAIN") == "1" {
		main()
		return
	}
	os.Exit(m.Run())
}

func TestValidatorStopsCleanlyOnSIGTERM(t *testing.T) {
	storetest.Each(t, func(t *testing.T, engine string) {
		const drain = 5 * time.Second
		_, chain := localnettest.Start(t, localnet.DefaultGenesis(), 100*time.Millisecond)
		cmd := exec.Command(os.Args[0], "validator", "--chain-network", chain, "--chain-netuid", "1", "--wallet-uri", "//Alice",
			"--ops-listen", "127.0.0.1:0", "--kaspa-listen", "127.0.0.1:0", "--kaspa-prometheus-endpoint", "http://127.0.0.1:9",
			"--weights-block-time", "100ms", "--log-format", "json", "--shutdown-drain-timeout", drain.String())
		cmd.Env = append(os.Environ(), "VIGIL_TEST_AS_MAIN=1", "VIGIL_DATABASE_URL="+storetest.URL(t, engine))
		stderr, err := cmd.StderrPipe()
		if err != nil {
			t.Fatal(err)
		}
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = cmd.Process.Kill() })

		lines := make(chan map[string]any, 64)
		go func() {
			defer close(lines)
			sc := bufio.NewScanner(stderr)
			for sc.Scan() {
				var rec map[string]any
				if json.Unmarshal(sc.Bytes(), &rec) != nil {
					t.Errorf("log line is not JSON: %s", sc.Text())
					continue
				}
				lines <- rec
			}
		}()
		addr := waitFor(t, lines, "serving")["ops"].(string)

		// The first pass of the weight loop reads the chain and the
		// metagraph; no Prometheus is reachable here, so no weights follow.
		var body []byte
		deadline := time.Now().Add(10 * time.Second)
		for {
			resp, err := http.Get("http://" + addr + "/health")
			if err != nil {
				t.Fatal(err)
			}
			body, _ = io.ReadAll(resp.Body)
			resp.Body.Close()
			ok := true
			for _, c := range []string{"database", "chain", "metagraph"} {
				ok = ok && strings.Contains(string(body), `{"name":"`+c+`","ok":true}`)
			}
			if ok {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("/health = %s", body)
			}
			time.Sleep(100 * time.Millisecond)
		}
		resp, err := http.Get("http://" + addr + "/metrics")
		if err != nil {
			t.Fatal(err)
		}
		p := expfmt.NewTextParser(model.UTF8Validation)
		mfs, err := p.TextToMetricFamilies(resp.Body)
		resp.Body.Close()
		if err != nil || mfs["vigil_build_info"] == nil || mfs["go_sql_max_open_connections"] == nil {
			t.Fatalf("/metrics: %v; families %d", err, len(mfs))
		}

		sent := time.Now()
		if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
			t.Fatal(err)
		}
		waitFor(t, lines, "stopped cleanly")
		done := make(chan error, 1)
		go func() { done <- cmd.Wait() }()
		select {
		case err := <-done:
			if err != nil {
				t.Fatalf("vigil validator exited with %v after SIGTERM, want 0", err)
			}
			if took := time.Since(sent); took > drain {
				t.Errorf("stopping took %s, longer than the drain deadline %s", took, drain)
			}
		case <-time.After(drain + 5*time.Second):
			t.Fatal("vigil validator did not exit within its drain deadline")
		}
	})
}

func waitFor(t *testing.T, lines <-chan map[string]any, msg string) map[string]any {
	t.Helper()
	deadline := time.After(30 * time.Second)
	for {
		select {
		case rec, ok := <-lines:
			if !ok {
				t.Fatalf("vigil exited before logging %q", msg)
			}
			if rec["level"] == "ERROR" {
				t.Fatalf("vigil logged an error: %v", rec)
			}
			if rec["msg"] == msg {
				return rec
			}
		case <-deadline:
			t.Fatalf("no %q log line within 30s", msg)
		}
	}
}
