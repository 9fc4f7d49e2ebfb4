package node

import (
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/vigil-validator/vigil/internal/api"
	"github.com/vigil-validator/vigil/internal/config"
	"github.com/vigil-validator/vigil/internal/store/storetest"
)

// TestConsoleTokenFile: the console's token is read from its file, and a
// missing file or a short token stops the node before it serves.
func TestConsoleTokenFile(t *testing.T) {
	dir := t.TempDir()
	write := func(name, content string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	st := storetest.Open(t, "sqlite", nil)
	for _, c := range []struct {
		file, wantErr string
	}{
		{write("good", "  0123456789abcdef-token\n"), ""},
		{write("short", "0123456789\n"), "the token has 10 characters, want 16 or more"},
		{filepath.Join(dir, "missing"), "no such file"},
		{"", ""},
	} {
		cfg := config.DefaultValidator()
		cfg.Ops.Listen, cfg.Console.TokenFile = "0.0.0.0:9100", c.file
		n := &Node{cfg: cfg, log: slog.New(slog.DiscardHandler), Store: st}
		con, err := n.buildConsole(api.NewHealth(time.Second))
		switch {
		case c.wantErr == "" && (err != nil || con == nil):
			t.Errorf("%s: %v", c.file, err)
		case c.wantErr != "" && (err == nil || !strings.Contains(err.Error(), c.wantErr) || !strings.HasPrefix(err.Error(), "console.token_file")):
			t.Errorf("%s: %v, want console.token_file: …%s", c.file, err, c.wantErr)
		}
	}
}
