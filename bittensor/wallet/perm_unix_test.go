//go:build unix

package wallet

import (
	"os"
	"path/filepath"
	"syscall"
	"testing"
)

// Files are 0600 and created directories 0700 whatever the umask. The
// umask is process-wide, so this test must not run in parallel.
func TestPermissionsIgnoreUmask(t *testing.T) {
	for _, umask := range []int{0o000, 0o022, 0o277} {
		old := syscall.Umask(umask)
		root := t.TempDir()
		w := Wallet{Path: filepath.Join(root, "deep", "wallets"), Name: "w", Hotkey: "h"}
		_, _, err := CreateHotkey(w, 12, false)
		if err == nil {
			// Overwriting keeps the modes too.
			_, _, err = CreateHotkey(w, 12, true)
		}
		syscall.Umask(old)
		if err != nil {
			t.Fatalf("umask %03o: %v", umask, err)
		}
		hk, _ := w.HotkeysDir()
		for _, d := range []string{filepath.Join(root, "deep"), filepath.Join(root, "deep", "wallets"), filepath.Join(root, "deep", "wallets", "w"), hk} {
			fi, err := os.Stat(d)
			if err != nil {
				t.Fatal(err)
			}
			if m := fi.Mode().Perm(); m != 0o700 {
				t.Errorf("umask %03o: dir %s mode %03o, want 700", umask, d, m)
			}
		}
		p, _ := w.HotkeyPath()
		pp, _ := w.HotkeyPubPath()
		for _, f := range []string{p, pp} {
			fi, err := os.Stat(f)
			if err != nil {
				t.Fatal(err)
			}
			if m := fi.Mode().Perm(); m != 0o600 {
				t.Errorf("umask %03o: file %s mode %03o, want 600", umask, f, m)
			}
		}
	}
	// An existing directory is left as it is.
	root := t.TempDir()
	if err := os.Chmod(root, 0o750); err != nil {
		t.Fatal(err)
	}
	if _, _, err := CreateHotkey(Wallet{Path: root, Name: "w", Hotkey: "h"}, 12, false); err != nil {
		t.Fatal(err)
	}
	if fi, _ := os.Stat(root); fi.Mode().Perm() != 0o750 {
		t.Errorf("existing directory changed to %03o", fi.Mode().Perm())
	}
}
