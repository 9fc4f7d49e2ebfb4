package kaspasim

import (
	"errors"
	"slices"
	"testing"
)

func TestParseMix(t *testing.T) {
	m, err := ParseMix(" honest:4, idle ,intermittent:0,flooding:2")
	if err != nil {
		t.Fatal(err)
	}
	if m.String() != "honest:4,idle:1,intermittent:0,flooding:2" || m.Total() != 7 {
		t.Errorf("mix %s, total %d", m, m.Total())
	}
	ps, err := m.Expand(9)
	want := []Profile{Honest, Honest, Honest, Honest, Idle, Flooding, Flooding, Honest, Honest}
	if err != nil || !slices.Equal(ps, want) {
		t.Errorf("Expand(9) = %v, %v", ps, err)
	}
	if ps, _ := m.Expand(0); len(ps) != 7 {
		t.Errorf("Expand(0) = %v", ps)
	}
	if _, err := m.Expand(6); !errors.Is(err, ErrBadProfile) {
		t.Errorf("Expand(6): %v", err)
	}
	if again, err := ParseMix(DefaultMix().String()); err != nil || !slices.Equal(again, DefaultMix()) {
		t.Errorf("default mix does not round-trip: %v %v", again, err)
	}
	for _, bad := range []string{"", " ", "honest:", "honest:1.5", "honest:-2", "Honest:1", "honest,honest", "idle:0", ",", "honest:1,"} {
		if _, err := ParseMix(bad); !errors.Is(err, ErrBadProfile) {
			t.Errorf("%q: err %v", bad, err)
		}
	}
}

func TestEveryProfileHasABehaviour(t *testing.T) {
	for _, p := range Profiles() {
		b := p.behaviour()
		if p != Idle && (!b.submits || b.rate[0] <= 0 || b.rate[1] < b.rate[0]) {
			t.Errorf("%s: %+v", p, b)
		}
		if b.invalid > 0 && b.invalidMix == [4]float64{} {
			t.Errorf("%s rejects shares without a mix of types", p)
		}
	}
}
