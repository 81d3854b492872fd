package testfixture

import (
	"os"
	"path/filepath"
	"testing"
)

// WriteFile writes b to dir/name and returns its path, failing the test if
// it cannot. When size > 0 the file is then cut or extended to size bytes;
// extending makes a sparse file, which costs no disk however large it
// claims to be (the hostile-input tests' 100 GB files).
func WriteFile(t testing.TB, dir, name string, b []byte, size int64) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, b, 0o644); err != nil {
		t.Fatal(err)
	}
	if size > 0 {
		if err := os.Truncate(p, size); err != nil {
			t.Fatal(err)
		}
	}
	return p
}
