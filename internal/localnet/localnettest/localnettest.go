// Package localnettest runs a localnet on loopback for tests.
package localnettest

import (
	"context"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/vigil-validator/vigil/bittensor/substrate"
	"github.com/vigil-validator/vigil/bittensor/subtensor"
	"github.com/vigil-validator/vigil/internal/localnet"
)

// Start runs a chain from g producing a block every blockTime until the
// test ends, served on loopback; it returns the chain and its ws:// URL.
func Start(t testing.TB, g localnet.Genesis, blockTime time.Duration) (*localnet.Chain, string) {
	t.Helper()
	st, err := g.State()
	if err != nil {
		t.Fatal(err)
	}
	ch, err := localnet.New(localnet.Config{BlockTime: blockTime}, st)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	go ch.Run(ctx)
	srv := httptest.NewServer(localnet.NewServer(ch))
	t.Cleanup(srv.Close)
	return ch, "ws" + strings.TrimPrefix(srv.URL, "http")
}

// Client connects a subtensor client to url, closed when the test ends.
func Client(t testing.TB, url string) *subtensor.Client {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	rpc, err := substrate.Dial(ctx, substrate.Options{URL: url, CallTimeout: 10 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { rpc.Close() })
	c, err := subtensor.New(rpc)
	if err != nil {
		t.Fatal(err)
	}
	return c
}
