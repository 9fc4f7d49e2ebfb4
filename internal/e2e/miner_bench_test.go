package e2e

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"net/http/httptest"
	"net/netip"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/vigil-validator/vigil/bittensor/axon"
	"github.com/vigil-validator/vigil/bittensor/keys"
	"github.com/vigil-validator/vigil/bittensor/scale"
	"github.com/vigil-validator/vigil/bittensor/subtensor"
	"github.com/vigil-validator/vigil/internal/challenge"
	"github.com/vigil-validator/vigil/internal/computeproto"
	"github.com/vigil-validator/vigil/internal/computerpc"
	"github.com/vigil-validator/vigil/internal/localnet"
	"github.com/vigil-validator/vigil/internal/localnet/localnettest"
	"github.com/vigil-validator/vigil/internal/miner"
	"github.com/vigil-validator/vigil/internal/securesession"
	"github.com/vigil-validator/vigil/internal/worker"
)

type fixedChain struct{ mg *subtensor.Metagraph }

func (c fixedChain) Metagraph(context.Context, uint16, string) (*subtensor.Metagraph, error) {
	return c.mg, nil
}

// validatorNeuron is a permitted, staked neuron serving at addr.
func validatorNeuron(kp *keys.KeyPair, addr netip.AddrPort) subtensor.Neuron {
	n := subtensor.Neuron{ValidatorPermit: true, Stake: 1 << 60}
	pub := kp.PublicKey()
	copy(n.Hotkey[:], pub[:])
	v4 := addr.Addr().As4()
	n.Axon = subtensor.AxonInfo{IP: scale.Uint128{Lo: uint64(v4[0])<<24 | uint64(v4[1])<<16 | uint64(v4[2])<<8 | uint64(v4[3])}, Port: addr.Port(), IPType: 4}
	return n
}

// BenchmarkMinerRoundTrip: the miner's overhead on one challenge, its
// computation aside (n = 8): a task poll, the assignment over the worker
// WebSocket, the task result, the commitment, the proof request to the
// worker and its answer, and the proof, all on loopback with encrypted
// sessions, until the validator has verified it.
func BenchmarkMinerRoundTrip(b *testing.B) {
	alice, bob := devKey(b, "//Alice"), devKey(b, "//Bob")
	val := &challengeValidator{t: b, miner: bob.SS58(), issued: map[string]*issued{}, workers: map[string]computeproto.WorkerInfo{},
		verdicts: map[string][]challenge.Verdict{}, notify: make(chan string, 1)}
	ax, err := axon.New(axon.Config{Hotkey: alice, RateLimit: -1})
	if err != nil {
		b.Fatal(err)
	}
	if err := computerpc.Serve(ax, computerpc.ServerConfig{Sessions: securesession.NewServer(alice.SS58()), RateLimit: -1}, val.handlers()); err != nil {
		b.Fatal(err)
	}
	axSrv := httptest.NewServer(ax)
	defer axSrv.Close()
	rpc, err := computerpc.NewClient(bob)
	if err != nil {
		b.Fatal(err)
	}
	quiet := slog.New(slog.DiscardHandler)
	cfg := miner.DefaultConfig()
	cfg.Netuid, cfg.Hotkey = 1, bob
	chain := fixedChain{&subtensor.Metagraph{Neurons: []subtensor.Neuron{validatorNeuron(alice, netip.MustParseAddrPort(axSrv.Listener.Addr().String()))}}}
	m := miner.New(cfg, quiet, chain, rpc, nil)
	defer m.Hub().Close()
	hubSrv := httptest.NewServer(m.Hub())
	defer hubSrv.Close()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	wc := worker.DefaultConfig()
	wc.MinerURL, wc.WorkerID = "ws"+strings.TrimPrefix(hubSrv.URL, "http"), "bench-worker"
	w, err := worker.New(wc, quiet, nil)
	if err != nil {
		b.Fatal(err)
	}
	go func() { _ = w.Run(ctx) }()
	if err := m.SyncValidators(ctx); err != nil {
		b.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for len(m.Hub().Workers()) == 0 && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	round := func() {
		id := val.queueChallenge(computeproto.ChallengeCPUMatrix, "bench-worker", 8, 1)
		m.PollOnce(ctx)
		select {
		case got := <-val.notify:
			if got != id {
				b.Fatalf("verdict for %s, want %s", got, id)
			}
		case <-time.After(10 * time.Second):
			b.Fatal("no verdict")
		}
		for m.Hub().IdleFraction() < 1 { // the worker is freed after the proof is acknowledged
			time.Sleep(10 * time.Microsecond)
		}
	}
	round() // the session handshake happens here
	for b.Loop() {
		round()
	}
	b.StopTimer()
	val.mu.Lock()
	defer val.mu.Unlock()
	for id, vs := range val.verdicts {
		if len(vs) != 1 || !vs[0].Passed {
			b.Fatalf("%s: %+v", id, vs)
		}
	}
}

// BenchmarkMinerRSS100Workers: the resident memory of a `vigil miner`
// process (a child of this one) with 100 workers connected, registered
// and heartbeating, read from /proc once they have all been seen.
func BenchmarkMinerRSS100Workers(b *testing.B) {
	_, chainURL := localnettest.Start(b, localnet.DefaultGenesis(), 50*time.Millisecond)
	hubPort := freePort(b)
	args := []string{"miner", "--chain-network", chainURL, "--chain-netuid", "1", "--wallet-uri", "//Bob",
		"--ops-listen", "127.0.0.1:0", "--worker-hub-listen", "127.0.0.1:" + hubPort, "--log-level", "error"}
	cmd := exec.Command(os.Args[0])
	cmd.Env = append(os.Environ(), childEnv+"="+strings.Join(args, "\n"))
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	defer func() { _ = cmd.Process.Signal(os.Interrupt); _ = cmd.Wait() }()
	url := "ws://127.0.0.1:" + hubPort
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var conns []*websocket.Conn
	for i := range 100 {
		var c *websocket.Conn
		for try := 0; ; try++ {
			var err error
			if c, _, err = websocket.Dial(ctx, url, nil); err == nil {
				break
			}
			if try > 200 {
				b.Fatalf("dial the miner: %v", err)
			}
			time.Sleep(50 * time.Millisecond)
		}
		reg := fmt.Sprintf(`{"type":"register","worker_id":"w%03d","worker_version":"0.0.3","capabilities":["cpu_matrix"],"system_info":{"cpu_count":16,"memory_total":64000,"gpu_info":[],"gpu_plugin":[]}}`, i)
		if err := c.Write(ctx, websocket.MessageText, []byte(reg)); err != nil {
			b.Fatal(err)
		}
		if _, _, err := c.Read(ctx); err != nil {
			b.Fatalf("registration of worker %d: %v", i, err)
		}
		conns = append(conns, c)
	}
	hb := []byte(`{"type":"heartbeat","data":{"status":"online","active_tasks":0,"system_info":{"cpu_count":16,"cpu_usage":3.5,"memory_total":64000,"memory_available":60000,"disk_total":900,"disk_free":700,"gpu_info":[],"gpu_plugin":[]},"capabilities":["cpu_matrix"]}}`)
	var rss, peak float64
	for b.Loop() {
		for range 3 {
			for _, c := range conns {
				if err := c.Write(ctx, websocket.MessageText, hb); err != nil {
					b.Fatal(err)
				}
				if _, _, err := c.Read(ctx); err != nil {
					b.Fatal(err)
				}
			}
			time.Sleep(1100 * time.Millisecond) // the hub takes one heartbeat a second per worker
		}
		rss, peak = procMemory(b, cmd.Process.Pid)
	}
	b.ReportMetric(rss, "MB-rss")
	b.ReportMetric(peak, "MB-peak-rss")
	for _, c := range conns {
		_ = c.CloseNow()
	}
}

// procMemory reads VmRSS and VmHWM of a process, in MB.
func procMemory(b *testing.B, pid int) (rss, peak float64) {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		b.Skipf("no /proc: %v", err)
	}
	for _, line := range strings.Split(string(data), "\n") {
		f := strings.Fields(line)
		if len(f) < 2 {
			continue
		}
		kb, _ := strconv.ParseFloat(f[1], 64)
		switch f[0] {
		case "VmRSS:":
			rss = kb / 1024
		case "VmHWM:":
			peak = kb / 1024
		}
	}
	return rss, peak
}

func freePort(b *testing.B) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	defer ln.Close()
	_, port, _ := net.SplitHostPort(ln.Addr().String())
	return port
}
