package recordings

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/floodgate-dev/floodgate/internal/emulator/conversations"
)

func TestDirPut(t *testing.T) {
	t.Parallel()
	d := NewDir(t.TempDir())
	c := &conversations.Conversation{ID: "c1", OrgID: "o1", RecordingID: "r1", Start: time.Date(2026, 1, 2, 3, 4, 5, 0, time.FixedZone("x", 3600))}
	key := ExportKey(c)
	if want := "o1/year=2026/month=1/day=2/hour=2/conversation_id=c1/r1"; key != want {
		t.Fatalf("ExportKey = %s, want %s (UTC start)", key, want)
	}
	for _, data := range []string{"first", "second"} {
		if err := d.Put(context.Background(), key, []byte(data)); err != nil {
			t.Fatal(err)
		}
	}
	root, _ := d.Root()
	b, err := os.ReadFile(filepath.Join(root, filepath.FromSlash(key)))
	if err != nil || string(b) != "second" {
		t.Errorf("read back %q, %v", b, err)
	}
	entries, _ := os.ReadDir(filepath.Dir(filepath.Join(root, filepath.FromSlash(key))))
	if len(entries) != 1 {
		t.Errorf("%d files in the conversation folder, want 1 (no temporaries)", len(entries))
	}
	for _, bad := range []string{"", "/abs", "a/../b"} {
		if err := d.Put(context.Background(), bad, nil); err == nil {
			t.Errorf("key %q accepted", bad)
		}
	}
}

func TestDirTemporaryRoot(t *testing.T) {
	t.Parallel()
	d := NewDir("")
	if d.Path() != "" {
		t.Fatal("temporary root created before use")
	}
	root, err := d.Root()
	if err != nil {
		t.Fatal(err)
	}
	defer os.RemoveAll(root)
	if again, _ := d.Root(); again != root || d.Path() != root {
		t.Errorf("root changed: %s then %s", root, again)
	}
}
