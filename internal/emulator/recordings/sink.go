package recordings

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
)

// Sink stores exported files under slash-separated keys such as
// "{orgId}/year=2026/month=5/day=1/hour=12/conversation_id={id}/{recordingId}".
// Put returns only once the file is durable and visible under key; an
// existing key is replaced whole. Implementations are safe for concurrent
// use. Dir writes to a local directory; an S3 sink can replace it.
type Sink interface {
	Put(ctx context.Context, key string, data []byte) error
}

// Dir is a Sink writing under a local directory. Each file is written to a
// temporary name in its final directory, fsynced, renamed into place, and
// the directory is fsynced: a reader never sees a partial file, and a file
// that Put reported is on disk. It is safe for concurrent use.
type Dir struct {
	mu   sync.Mutex
	root string
}

var _ Sink = (*Dir)(nil)

// NewDir returns a sink writing under root. An empty root means a new
// temporary directory, created on first use (see Root).
func NewDir(root string) *Dir { return &Dir{root: root} }

// Root returns the directory written to, creating it if needed.
func (d *Dir) Root() (string, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.root == "" {
		dir, err := os.MkdirTemp("", "floodgate-export-")
		if err != nil {
			return "", fmt.Errorf("recordings: export dir: %w", err)
		}
		d.root = dir
	}
	return d.root, nil
}

// Path returns the directory written to, or "" while a temporary one has
// not been created yet.
func (d *Dir) Path() string {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.root
}

// Put implements Sink.
func (d *Dir) Put(_ context.Context, key string, data []byte) error {
	root, err := d.Root()
	if err != nil {
		return err
	}
	if key == "" || strings.HasPrefix(key, "/") || strings.Contains(key, "..") || strings.Contains(key, "\\") {
		return fmt.Errorf("recordings: bad export key %q", key)
	}
	path := filepath.Join(root, filepath.FromSlash(key))
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("recordings: export %s: %w", key, err)
	}
	f, err := os.CreateTemp(dir, ".tmp-*")
	if err != nil {
		return fmt.Errorf("recordings: export %s: %w", key, err)
	}
	tmp := f.Name()
	_, werr := f.Write(data)
	serr := f.Sync()
	cerr := f.Close()
	if err := errors.Join(werr, serr, cerr); err != nil {
		_ = os.Remove(tmp)
		return fmt.Errorf("recordings: export %s: %w", key, err)
	}
	if err := os.Rename(tmp, path); err != nil {
		_ = os.Remove(tmp)
		return fmt.Errorf("recordings: export %s: %w", key, err)
	}
	if df, err := os.Open(dir); err == nil {
		err = df.Sync()
		_ = df.Close()
		if err != nil {
			return fmt.Errorf("recordings: export %s: sync dir: %w", key, err)
		}
	}
	return nil
}
