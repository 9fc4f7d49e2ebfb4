package wallet

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
)

// File modes of what this package creates. They are set with chmod after
// creation, so the umask does not change them.
const (
	fileMode = 0o600
	dirMode  = 0o700
)

// tmpPattern names the temporary files of WriteFileAtomic.
const tmpPattern = ".vigil-*.tmp"

// ErrExists is returned (wrapped) when a keyfile would be overwritten
// without permission.
var ErrExists = errors.New("wallet: keyfile already exists")

// readKeyfile reads a regular file of at most MaxKeyfileSize bytes.
func readKeyfile(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if !fi.Mode().IsRegular() {
		return nil, fmt.Errorf("wallet: %s is not a regular file", path)
	}
	if fi.Size() > MaxKeyfileSize {
		return nil, fmt.Errorf("wallet: %s is %d bytes, more than %d", path, fi.Size(), MaxKeyfileSize)
	}
	data, err := io.ReadAll(io.LimitReader(f, MaxKeyfileSize+1))
	if err != nil {
		return nil, fmt.Errorf("wallet: reading %s: %w", path, err)
	}
	if len(data) > MaxKeyfileSize {
		return nil, fmt.Errorf("wallet: %s is more than %d bytes", path, MaxKeyfileSize)
	}
	return data, nil
}

// mkdirPrivate creates dir and any missing parents with mode 0700. Existing
// directories are left as they are.
func mkdirPrivate(dir string) error {
	fi, err := os.Stat(dir)
	if err == nil {
		if !fi.IsDir() {
			return fmt.Errorf("wallet: %s exists and is not a directory", dir)
		}
		return nil
	}
	if !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	if parent := filepath.Dir(dir); parent != dir {
		if err := mkdirPrivate(parent); err != nil {
			return err
		}
	}
	if err := os.Mkdir(dir, dirMode); err != nil {
		if errors.Is(err, fs.ErrExist) {
			if fi, serr := os.Stat(dir); serr == nil && fi.IsDir() {
				return nil // created concurrently
			}
		}
		return err
	}
	return os.Chmod(dir, dirMode)
}

// WriteFileAtomic writes data to path with mode 0600 through a temporary
// file in the same directory, so that readers see the old or the new file,
// never a partial one. Without overwrite an existing path is left alone and
// the error wraps ErrExists.
func WriteFileAtomic(path string, data []byte, overwrite bool) (err error) {
	dir := filepath.Dir(path)
	// A fixed short pattern: "<name>.tmp" could exceed NAME_MAX for long
	// names. The leading dot keeps it out of List.
	tmp, err := os.CreateTemp(dir, tmpPattern)
	if err != nil {
		return err
	}
	tmpName := tmp.Name()
	defer func() {
		if tmp != nil {
			_ = tmp.Close()
		}
		if tmpName != "" {
			_ = os.Remove(tmpName)
		}
	}()
	if err := tmp.Chmod(fileMode); err != nil {
		return err
	}
	if _, err := tmp.Write(data); err != nil {
		return err
	}
	if err := tmp.Sync(); err != nil {
		return err
	}
	if err := tmp.Close(); err != nil {
		tmp = nil
		return err
	}
	tmp = nil
	if overwrite {
		if err := os.Rename(tmpName, path); err != nil {
			return err
		}
		tmpName = ""
	} else {
		// link(2) fails if path exists, so there is no window in which an
		// existing file could be replaced.
		if err := os.Link(tmpName, path); err != nil {
			if errors.Is(err, fs.ErrExist) {
				return fmt.Errorf("%w: %s", ErrExists, path)
			}
			// No hard links here (some file systems): check, then rename.
			if _, serr := os.Lstat(path); serr == nil {
				return fmt.Errorf("%w: %s", ErrExists, path)
			}
			if err := os.Rename(tmpName, path); err != nil {
				return err
			}
			tmpName = ""
		}
	}
	syncDir(dir)
	return nil
}

// syncDir flushes a directory entry change where the platform allows it.
func syncDir(dir string) {
	d, err := os.Open(dir)
	if err != nil {
		return
	}
	_ = d.Sync()
	_ = d.Close()
}

// exists reports whether path exists (without following a final symlink).
func exists(path string) (bool, error) {
	_, err := os.Lstat(path)
	if err == nil {
		return true, nil
	}
	if errors.Is(err, fs.ErrNotExist) {
		return false, nil
	}
	return false, err
}
