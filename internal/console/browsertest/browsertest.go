// Package browsertest drives a real headless Chromium (Debian's chromium,
// found by scripts/chromium-deps.sh) over the DevTools protocol for the
// web console's tests: it opens pages, collects every console error,
// uncaught exception and failed load, and takes screenshots.
package browsertest

import (
	"context"
	"fmt"
	stdlog "log"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/log"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"
)

// BinEnv names the browser binary (scripts/test-deps.sh sets it).
const BinEnv = "VIGIL_CHROMIUM"

// ShotsEnv names a directory to write each page's screenshot to.
const ShotsEnv = "VIGIL_CONSOLE_SHOTS"

// Find is the browser to run: $VIGIL_CHROMIUM, else chromium on PATH;
// "" when there is none.
func Find() string {
	if b := os.Getenv(BinEnv); b != "" {
		return b
	}
	for _, name := range []string{"chromium", "chromium-browser"} {
		if b, err := exec.LookPath(name); err == nil {
			return b
		}
	}
	return ""
}

// Binary is Find's browser. Without one the test skips, or fails under
// CI=true.
func Binary(t testing.TB) string {
	t.Helper()
	if b := Find(); b != "" {
		return b
	}
	msg := "browsertest: no chromium (set " + BinEnv + ", put chromium on PATH, or install it: scripts/chromium-deps.sh with VIGIL_INSTALL_DEPS=1 as root, or apt-get install chromium)"
	if os.Getenv("CI") == "true" {
		t.Fatal(msg + "; CI=true requires it")
	}
	t.Skip(msg)
	return ""
}

// Browser is one headless Chromium tab.
type Browser struct {
	Ctx    context.Context
	mu     sync.Mutex
	issues []string
}

// New starts a browser for the test (stopped at its end), each step of it
// bounded by timeout.
func New(t testing.TB, timeout time.Duration) *Browser {
	t.Helper()
	bin := Binary(t)
	opts := append(chromedp.DefaultExecAllocatorOptions[:], chromedp.ExecPath(bin), chromedp.NoSandbox, chromedp.DisableGPU,
		chromedp.WindowSize(1280, 900), chromedp.Flag("hide-scrollbars", true))
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	// Events this protocol version cannot decode (enums newer Chromiums
	// added) are not the page's problems: they are left out of the log.
	ctx, cancel := chromedp.NewContext(actx, chromedp.WithErrorf(func(format string, args ...any) {
		if msg := fmt.Sprintf(format, args...); !strings.Contains(msg, "could not unmarshal event") {
			stdlog.Print("browsertest: " + msg)
		}
	}))
	b := &Browser{Ctx: ctx}
	chromedp.ListenTarget(ctx, func(ev any) {
		switch e := ev.(type) {
		case *runtime.EventConsoleAPICalled:
			if e.Type == runtime.APITypeError || e.Type == runtime.APITypeAssert {
				b.note(fmt.Sprintf("console.%s: %v", e.Type, args(e.Args)))
			}
		case *runtime.EventExceptionThrown:
			b.note("exception: " + e.ExceptionDetails.Error())
		case *log.EventEntryAdded:
			if e.Entry.Level == log.LevelError {
				b.note(fmt.Sprintf("%s: %s (%s)", e.Entry.Source, e.Entry.Text, e.Entry.URL))
			}
		}
	})
	// The first Run starts the browser, which lives as long as the context
	// that run is given: ctx itself, with the timeout enforced beside it.
	started := make(chan error, 1)
	go func() { started <- chromedp.Run(ctx, log.Enable(), runtime.Enable()) }()
	var err error
	select {
	case err = <-started:
	case <-time.After(timeout):
		err = fmt.Errorf("not started within %s", timeout)
	}
	if err != nil {
		cancel()
		cancelAlloc()
		t.Fatalf("browsertest: start %s: %v", bin, err)
	}
	t.Cleanup(func() { cancel(); cancelAlloc() })
	return b
}

func args(as []*runtime.RemoteObject) []string {
	var out []string
	for _, a := range as {
		if a.Value != nil {
			out = append(out, string(a.Value))
		} else {
			out = append(out, a.Description)
		}
	}
	return out
}

func (b *Browser) note(s string) {
	b.mu.Lock()
	b.issues = append(b.issues, s)
	b.mu.Unlock()
}

// Issues returns and forgets the console errors, exceptions and failed
// loads seen since the last call.
func (b *Browser) Issues() []string {
	b.mu.Lock()
	defer b.mu.Unlock()
	out := b.issues
	b.issues = nil
	return out
}

// Run runs actions within timeout.
func (b *Browser) Run(timeout time.Duration, actions ...chromedp.Action) error {
	ctx, cancel := context.WithTimeout(b.Ctx, timeout)
	defer cancel()
	return chromedp.Run(ctx, actions...)
}

// Count is how many elements match a CSS selector on the page.
func Count(selector string, n *int) chromedp.Action {
	return chromedp.ActionFunc(func(ctx context.Context) error {
		var nodes []*cdp.Node
		if err := chromedp.Nodes(selector, &nodes, chromedp.ByQueryAll, chromedp.AtLeast(0)).Do(ctx); err != nil {
			return err
		}
		*n = len(nodes)
		return nil
	})
}

// Shot writes a full-page screenshot as name.png to $VIGIL_CONSOLE_SHOTS,
// when it is set.
func Shot(name string) chromedp.Action {
	return chromedp.ActionFunc(func(ctx context.Context) error {
		dir := os.Getenv(ShotsEnv)
		if dir == "" {
			return nil
		}
		var png []byte
		if err := chromedp.FullScreenshot(&png, 100).Do(ctx); err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(dir, name+".png"), png, 0o644)
	})
}
