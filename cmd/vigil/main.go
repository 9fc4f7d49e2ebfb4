// Command vigil is a Bittensor subnet validator, with its miner and worker,
// in one binary. Run 'vigil help' for the commands.
package main

import (
	"os"

	"github.com/vigil-validator/vigil/internal/cli"
)

func main() {
	os.Exit(cli.Main(os.Args[1:], cli.OSEnv()))
}
