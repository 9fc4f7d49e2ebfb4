package store

import (
	"errors"
	"fmt"
	"net/url"
	"strings"
)

// Engine names a database engine.
type Engine string

// The supported engines.
const (
	SQLite   Engine = "sqlite"
	Postgres Engine = "postgres"
)

// ParseURL returns the engine of a database URL and, for SQLite, the file
// path it names. "sqlite:PATH", "sqlite://PATH" and "sqlite:///ABS" are all
// accepted because operators write all three. The configuration validates
// database.url with it, so what loads is what opens.
func ParseURL(raw string) (Engine, string, error) {
	if raw == "" {
		return "", "", errors.New("no database URL")
	}
	scheme, rest, ok := strings.Cut(raw, ":")
	if !ok || scheme == "" {
		return "", "", fmt.Errorf("no scheme in %q (want sqlite:PATH or postgres://…)", raw)
	}
	switch strings.ToLower(scheme) {
	case "sqlite", "sqlite3":
		path := strings.TrimPrefix(rest, "//")
		if i := strings.IndexByte(path, '?'); i >= 0 {
			return "", "", fmt.Errorf("SQLite options are set by vigil; remove %q", path[i:])
		}
		if path == "" {
			return "", "", fmt.Errorf("no file path in %q", raw)
		}
		return SQLite, path, nil
	case "postgres", "postgresql":
		u, err := url.Parse(raw)
		if err != nil {
			return "", "", fmt.Errorf("malformed PostgreSQL URL: %v", redactURLError(err))
		}
		if u.Host == "" {
			return "", "", errors.New("no host in PostgreSQL URL")
		}
		return Postgres, "", nil
	default:
		return "", "", fmt.Errorf("unsupported scheme %q (want sqlite or postgres)", scheme)
	}
}

// redactURLError drops the URL from a url.Error, which would otherwise echo
// a password into logs.
func redactURLError(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err
	}
	return err
}
