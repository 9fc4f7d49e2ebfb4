package config

import (
	"path/filepath"
	"testing"
)

// TestShippedConfigs: the example files under config/ load and validate,
// with no unknown key, and state the defaults they document.
func TestShippedConfigs(t *testing.T) {
	dir := filepath.Join("..", "..", "config")
	v, err := LoadRole(DefaultValidator(), Source{File: filepath.Join(dir, "validator.yaml")})
	if err != nil {
		t.Fatalf("validator.yaml: %v", err)
	}
	d := DefaultValidator()
	if v.Compute.Fixes != d.Compute.Fixes || v.Database.MaxOpenConns != d.Database.MaxOpenConns || v.Compute.Validation != d.Compute.Validation {
		t.Errorf("validator.yaml states other defaults: fixes %+v, max_open_conns %d, validation %+v", v.Compute.Fixes, v.Database.MaxOpenConns, v.Compute.Validation)
	}
	if _, err := LoadRole(DefaultMiner(), Source{File: filepath.Join(dir, "miner.yaml")}); err != nil {
		t.Errorf("miner.yaml: %v", err)
	}
	if _, err := LoadRole(DefaultWorker(), Source{File: filepath.Join(dir, "worker.yaml")}); err != nil {
		t.Errorf("worker.yaml: %v", err)
	}
}
