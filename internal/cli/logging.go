package cli

import (
	"io"
	"log/slog"

	"github.com/vigil-validator/vigil/internal/command"
	"github.com/vigil-validator/vigil/internal/config"
)

// newLogger builds the process logger from a validated log section.
func newLogger(w io.Writer, c config.Log) *slog.Logger {
	var level slog.Level
	_ = level.UnmarshalText([]byte(c.Level)) // validated by config
	opts := &slog.HandlerOptions{Level: level}
	if c.Format == "json" {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}

// flagLogger builds the text logger of a command's --log-level flag.
var flagLogger = command.FlagLogger
