package cli

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"time"
)

const healthHelp = `
health asks a running vigil's ops listener for /health and exits 0 when it
answers 200 (every check passes), 1 otherwise, printing the answer: what a
container's or a supervisor's health check runs, with nothing else in the
image.`

func runHealth(env Env, args []string) int {
	fs := newFlagSet(env, "health", "health [--url URL] [--timeout D]", healthHelp)
	target := fs.String("url", "http://127.0.0.1:9100/health", "the /health endpoint to ask")
	timeout := fs.Duration("timeout", 5*time.Second, "how long to wait for the answer")
	if code, ok := parse(env, fs, args); !ok {
		return code
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(env.Stderr, "vigil health: unexpected argument %q\n", fs.Arg(0))
		return exitUsage
	}
	u, err := url.Parse(*target)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		fmt.Fprintf(env.Stderr, "vigil health: --url: want http(s)://host:port/health\n")
		return exitUsage
	}
	ctx, cancel := context.WithTimeout(context.Background(), *timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		fmt.Fprintf(env.Stderr, "vigil health: %v\n", err)
		return exitUsage
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		fmt.Fprintf(env.Stderr, "vigil health: %v\n", err)
		return exitFailure
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	fmt.Fprintf(env.Stdout, "%s\n", body)
	if resp.StatusCode != http.StatusOK {
		fmt.Fprintf(env.Stderr, "vigil health: %s\n", resp.Status)
		return exitFailure
	}
	return exitOK
}
