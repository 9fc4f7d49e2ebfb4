package e2e

import (
	"context"
	"fmt"
	"io"
	"math"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/vigil-validator/vigil/bittensor/dendrite"
	"github.com/vigil-validator/vigil/bittensor/keys"
	"github.com/vigil-validator/vigil/internal/computeproto"
	"github.com/vigil-validator/vigil/internal/computerpc"
	"github.com/vigil-validator/vigil/internal/localnet"
	"github.com/vigil-validator/vigil/internal/localnet/localnettest"
)

// The load: 256 miners of 100 workers, each worker with one GPU, every
// miner heartbeating once per round: 15 s by default, 4 times the
// reference miner's rate; VIGIL_LOAD_ROUND sets another (60s is the
// reference's).
const (
	loadMiners  = 256
	loadWorkers = 100
	loadRounds  = 3
)

func loadRound(b *testing.B) time.Duration {
	d := 15 * time.Second
	if v := os.Getenv("VIGIL_LOAD_ROUND"); v != "" {
		var err error
		if d, err = time.ParseDuration(v); err != nil || d < time.Second {
			b.Fatalf("VIGIL_LOAD_ROUND=%q: a duration of at least 1s", v)
		}
	}
	return d
}

// procKB reads a /proc/PID/status field in kB.
func procKB(pid int, field string) float64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, field+":"); ok {
			n, _ := strconv.ParseFloat(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 64)
			return n
		}
	}
	return 0
}

// loadHeartbeat is a miner's heartbeat: its 100 workers, each with a GPU
// the default allowlist takes, so issuance challenges every one of them.
func loadHeartbeat(hotkey string, miner int, now time.Time) computeproto.HeartbeatData {
	hb := computeproto.NewHeartbeatData(hotkey, now)
	for w := range loadWorkers {
		wi := computeproto.NewWorkerInfo(fmt.Sprintf("w%03d", w), now)
		wi.Capabilities = []string{"cpu_matrix", "gpu_matrix"}
		wi.SystemInfo.CPUCount = 32
		wi.SystemInfo.GPUPlugin = []computeproto.GPUEntry{{UUID: fmt.Sprintf("GPU-%04d-%04d", miner, w), Name: "NVIDIA H100 80GB HBM3"}}
		ip := fmt.Sprintf("198.51.%d.%d", miner%256, w)
		wi.SystemInfo.PublicIP = &ip
		hb.Workers = append(hb.Workers, wi)
	}
	return hb
}

// BenchmarkValidatorHeartbeatLoad: a 'vigil validator' process with
// mechanism: compute (its defaults: GPU challenges every 240 s) on SQLite,
// 256 registered miners of 100 workers each heartbeating over their
// encrypted sessions, each once per round (loadRound) for three rounds
// after a first round that registers every worker. Reported: each heartbeat's round trip
// (the handler, the session's encryption and loopback HTTP) at p50 and
// p99, and the validator's resident memory at its peak (VmHWM) and at the
// end.
func BenchmarkValidatorHeartbeatLoad(b *testing.B) {
	g := localnet.DefaultGenesis()
	var uris []string
	for i := range loadMiners {
		uris = append(uris, fmt.Sprintf("//Load%d", i))
	}
	g.Subnets[0].Miners = nil
	for _, u := range uris {
		g.Subnets[0].Miners = append(g.Subnets[0].Miners, localnet.GenesisNeuron{Hotkey: u})
	}
	g.Subnets[0].Hyperparameters = map[string]any{"max_allowed_uids": loadMiners + 8}
	_, url := localnettest.Start(b, g, 250*time.Millisecond)
	client := localnettest.Client(b, url)
	alice := devKey(b, "//Alice")
	ctx := context.Background()
	axonAddr := publishAxon(b, client, alice)
	dir := b.TempDir()
	opsAddr := freeAddr(b)
	args := []string{"validator", "--chain-network", url, "--chain-netuid", "1", "--wallet-uri", "//Alice", "--mechanism", "compute",
		"--database-url", "sqlite:" + filepath.Join(dir, "vigil.db"), "--ops-listen", opsAddr, "--compute-listen", axonAddr, "--compute-validation-challenge-interval", "10", "--log-level", "warn"}
	val := startVigil(b, dir, "validator", args...)

	type loadMiner struct {
		hotkey string
		rpc    *computerpc.Client
	}
	miners := make([]loadMiner, loadMiners)
	for i, u := range uris {
		kp, err := keys.FromURI(u)
		if err != nil {
			b.Fatal(err)
		}
		rpc, err := computerpc.NewClient(kp)
		if err != nil {
			b.Fatal(err)
		}
		miners[i] = loadMiner{kp.SS58(), rpc}
	}
	host, port, _ := strings.Cut(axonAddr, ":")
	pn, _ := strconv.Atoi(port)
	target := dendrite.Target{IP: host, Port: pn, Hotkey: alice.SS58()}
	// The validator answers once it has read the metagraph.
	deadline := time.Now().Add(60 * time.Second)
	for {
		cctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		_, err := miners[0].rpc.Heartbeat(cctx, target, loadHeartbeat(miners[0].hotkey, 0, time.Now()))
		cancel()
		if err == nil {
			break
		}
		if time.Now().After(deadline) {
			b.Fatalf("the validator never answered: %v", err)
		}
		time.Sleep(200 * time.Millisecond)
	}

	round := loadRound(b)
	var mu sync.Mutex
	var lat []time.Duration
	var failures int
	run := func(record bool) {
		var wg sync.WaitGroup
		gap := round / loadMiners
		for i, m := range miners {
			wg.Add(1)
			go func() {
				defer wg.Done()
				hb := loadHeartbeat(m.hotkey, i, time.Now())
				cctx, cancel := context.WithTimeout(ctx, 30*time.Second)
				defer cancel()
				start := time.Now()
				_, err := m.rpc.Heartbeat(cctx, target, hb)
				d := time.Since(start)
				mu.Lock()
				defer mu.Unlock()
				if err != nil {
					failures++
					if failures <= 3 {
						b.Logf("heartbeat of miner %d: %v", i, err)
					}
				} else if record {
					lat = append(lat, d)
				}
			}()
			time.Sleep(gap)
		}
		wg.Wait()
	}
	run(false) // sessions, and every worker's first rows
	before := heartbeatHistogram(b, opsAddr)
	for b.Loop() {
		for range loadRounds {
			run(true)
		}
	}
	b.StopTimer()
	after := heartbeatHistogram(b, opsAddr)
	if failures > 0 {
		b.Fatalf("%d heartbeats failed", failures)
	}
	sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
	q := func(p float64) float64 { return float64(lat[int(p*float64(len(lat)-1))].Microseconds()) / 1000 }
	pid := val.cmd.Process.Pid
	b.ReportMetric(q(0.50), "p50-ms")
	b.ReportMetric(q(0.99), "p99-ms")
	b.ReportMetric(serverP99(b, before, after)*1000, "server-p99-le-ms")
	b.ReportMetric(float64(len(lat))/float64(b.N), "heartbeats/op")
	b.ReportMetric(procKB(pid, "VmHWM")/1024, "peak-RSS-MB")
	b.ReportMetric(procKB(pid, "VmRSS")/1024, "RSS-MB")
}

// heartbeatHistogram scrapes the validator's /metrics for its heartbeat
// request histogram: cumulative counts by upper bound.
func heartbeatHistogram(b *testing.B, opsAddr string) map[float64]float64 {
	resp, err := http.Get("http://" + opsAddr + "/metrics")
	if err != nil {
		b.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		b.Fatal(err)
	}
	out := map[float64]float64{}
	for _, line := range strings.Split(string(body), "\n") {
		if !strings.HasPrefix(line, "vigil_compute_request_seconds_bucket{") || !strings.Contains(line, `protocol="HEARTBEAT_V1"`) {
			continue
		}
		_, rest, _ := strings.Cut(line, `le="`)
		le, rest, _ := strings.Cut(rest, `"`)
		fields := strings.Fields(rest)
		bound, err1 := strconv.ParseFloat(le, 64)
		n, err2 := strconv.ParseFloat(fields[len(fields)-1], 64)
		if le == "+Inf" {
			bound, err1 = math.Inf(1), nil
		}
		if err1 != nil || err2 != nil {
			b.Fatalf("metrics line %q", line)
		}
		out[bound] = n
	}
	if len(out) == 0 {
		b.Fatal("no heartbeat histogram in /metrics")
	}
	return out
}

// serverP99 is the upper bound of the histogram bucket holding the 99th
// percentile of the requests between two scrapes.
func serverP99(b *testing.B, before, after map[float64]float64) float64 {
	var bounds []float64
	for le := range after {
		bounds = append(bounds, le)
	}
	sort.Float64s(bounds)
	total := after[math.Inf(1)] - before[math.Inf(1)]
	for _, le := range bounds {
		if after[le]-before[le] >= 0.99*total {
			return le
		}
	}
	b.Fatal("no p99 bucket")
	return 0
}
