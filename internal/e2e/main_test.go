package e2e

import (
	"os"
	"strings"
	"testing"

	"github.com/vigil-validator/vigil/internal/cli"
)

// childEnv, when set, makes the test binary run "vigil <args>" instead of
// the tests (args separated by newlines), so a benchmark can measure a
// vigil process apart from its own.
const childEnv = "VIGIL_E2E_CHILD"

func TestMain(m *testing.M) {
	if args := os.Getenv(childEnv); args != "" {
		os.Exit(cli.Main(strings.Split(args, "\n"), cli.OSEnv()))
	}
	os.Exit(m.Run())
}
