package store

import (
	"strings"
	"testing"
	"testing/fstest"
)

func TestLoadMigrationsRejectsBadSets(t *testing.T) {
	cases := map[string]fstest.MapFS{
		"must be NNNN_name.sql": {"m/one.sql": {Data: []byte("x")}},
		"expected version 2":    {"m/0001_a.sql": {Data: []byte("x")}, "m/0003_c.sql": {Data: []byte("x")}},
		"expected version 1":    {"m/0002_b.sql": {Data: []byte("x")}},
	}
	for want, fsys := range cases {
		if _, err := loadMigrations(fsys, "m"); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("error %v, want one containing %q", err, want)
		}
	}
	ms, err := loadMigrations(fstest.MapFS{"m/0002_b.sql": {Data: []byte("b")}, "m/0001_a.sql": {Data: []byte("a")}, "m/README": {}}, "m")
	if err != nil || len(ms) != 2 || ms[0].Name != "a" || ms[1].Version != 2 {
		t.Errorf("valid set: %+v, %v", ms, err)
	}
}

func TestEmbeddedMigrationsUseOnlyKnownMacros(t *testing.T) {
	ms, err := Migrations()
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range ms {
		for engine, r := range dialect {
			if out := r.Replace(m.sql); strings.Contains(out, "{{") {
				t.Errorf("%04d_%s on %s keeps an unknown macro", m.Version, m.Name, engine)
			}
		}
	}
}
