package meshhub

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/vigil-validator/vigil/bittensor/keys"
	"github.com/vigil-validator/vigil/internal/command"
)

const simHelp = `
Serves a MeshHub for a compute-subnet validator to connect to (its
meshhub.ws_url): the encrypted session, then the lease scores given with
--leases, published every --every to every connected validator. What the
validators send (heartbeats, resource and score reports, acks) is counted and
logged. For tests and the demo; the real MeshHub is the lease marketplace.`

// SimTool is 'vigil meshhub-sim'.
func SimTool() command.Tool {
	return command.Tool{Name: "meshhub-sim", Summary: "a MeshHub that publishes lease scores to compute validators, for tests and the demo", Run: runSim}
}

// ParseLeases reads "hotkey:worker=score,…".
func ParseLeases(s string) ([]WorkerScore, error) {
	var out []WorkerScore
	for _, item := range strings.Split(s, ",") {
		item = strings.TrimSpace(item)
		if item == "" {
			continue
		}
		key, val, ok := strings.Cut(item, "=")
		score, err := strconv.ParseFloat(val, 64)
		if !ok || err != nil || !strings.Contains(key, ":") {
			return nil, fmt.Errorf("--leases: %q is not hotkey:worker=score", item)
		}
		out = append(out, WorkerScore{WorkerKey: key, Score: score})
	}
	if _, err := CheckLeases(LeasePublish{WorkerScores: out}); err != nil {
		return nil, fmt.Errorf("--leases: %w", err)
	}
	return out, nil
}

func runSim(env command.Env, args []string) int {
	fs := command.NewFlagSet(env, "meshhub-sim", "meshhub-sim [--listen 127.0.0.1:26551] [--leases hotkey:worker=score,...] [flags]", simHelp)
	listen := fs.String("listen", "127.0.0.1:26551", "host:port to serve the WebSocket on")
	uri := fs.String("hotkey-uri", "//MeshHub", "dev key URI of the hub's hotkey")
	token := fs.String("token", "", "access token validators must present (none when empty)")
	leases := fs.String("leases", "", "lease scores to publish: hotkey:worker_id=score,...")
	every := fs.Duration("every", 30*time.Second, "how often the leases are published")
	if code, ok := command.Parse(env, fs, args); !ok {
		return code
	}
	kp, err := keys.FromURI(*uri)
	if err != nil {
		fmt.Fprintf(env.Stderr, "vigil meshhub-sim: --hotkey-uri: %v\n", err)
		return command.ExitUsage
	}
	scores, err := ParseLeases(*leases)
	if err != nil {
		fmt.Fprintf(env.Stderr, "vigil meshhub-sim: %v\n", err)
		return command.ExitUsage
	}
	if *every < 100*time.Millisecond {
		fmt.Fprintf(env.Stderr, "vigil meshhub-sim: --every %s: at least 100ms\n", *every)
		return command.ExitUsage
	}
	ln, err := net.Listen("tcp", *listen)
	if err != nil {
		fmt.Fprintf(env.Stderr, "vigil meshhub-sim: %v\n", err)
		return command.ExitFailure
	}
	sim := NewSim(kp.SS58(), *token)
	srv := &http.Server{Handler: sim, ReadHeaderTimeout: 10 * time.Second}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	go func() { <-ctx.Done(); _ = srv.Close() }()
	go func() {
		t := time.NewTicker(*every)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
			}
			if len(scores) > 0 && sim.Sessions() > 0 {
				if err := sim.PublishLeases(ctx, scores); err != nil {
					fmt.Fprintf(env.Stderr, "meshhub-sim: publish: %v\n", err)
				}
			}
			fmt.Fprintf(env.Stdout, "meshhub-sim: %d validator(s); received %d heartbeats, %d resource reports, %d score reports, %d acks\n",
				sim.Sessions(), len(sim.Messages(TypeHeartbeat)), len(sim.Messages(TypeResourceReport)), len(sim.Messages(TypeScoreReport)), len(sim.Messages(TypeAck)))
		}
	}()
	fmt.Fprintf(env.Stdout, "meshhub-sim: serving ws://%s as %s, %d lease score(s) every %s\n", ln.Addr(), kp.SS58(), len(scores), *every)
	if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
		fmt.Fprintf(env.Stderr, "vigil meshhub-sim: %v\n", err)
		return command.ExitFailure
	}
	return command.ExitOK
}
