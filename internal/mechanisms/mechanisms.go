// Package mechanisms lists the subnet mechanisms a validator node can run:
// adding one is its package (see internal/mechanism) and a line here.
package mechanisms

import (
	"slices"

	"github.com/vigil-validator/vigil/internal/command"
	"github.com/vigil-validator/vigil/internal/mechanism"
	"github.com/vigil-validator/vigil/internal/mechanism/compute"
	"github.com/vigil-validator/vigil/internal/mechanism/kaspa"
)

var factories = []mechanism.Factory{
	kaspa.Factory,
	compute.Factory,
}

// Lookup finds a mechanism's factory by name.
func Lookup(name string) (mechanism.Factory, bool) {
	i := slices.IndexFunc(factories, func(f mechanism.Factory) bool { return f.Name == name })
	if i < 0 {
		return mechanism.Factory{}, false
	}
	return factories[i], true
}

// Tools are every mechanism's commands, in the order above.
func Tools() []command.Tool {
	var out []command.Tool
	for _, f := range factories {
		out = append(out, f.Tools...)
	}
	return out
}

// Names lists the mechanisms, in the order above.
func Names() []string {
	out := make([]string, len(factories))
	for i, f := range factories {
		out[i] = f.Name
	}
	return out
}
