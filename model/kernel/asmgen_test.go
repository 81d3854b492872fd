//go:build amd64 && !purego

package kernel

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// The committed assembly and its declarations are exactly what the
// generator writes (go generate ./model/kernel), so nobody edits them by hand.
func TestAssemblyIsGenerated(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the avo generator")
	}
	dir := t.TempDir()
	gen := filepath.Join(dir, "asmgen")
	if out, err := exec.Command("go", "build", "-o", gen, "./internal/asmgen").CombinedOutput(); err != nil {
		t.Fatalf("build asmgen: %v\n%s", err, out)
	}
	// Run where the files go, with the names go generate uses: the
	// generator writes its command line into the header.
	cmd := exec.Command(gen, "-out", "u8i8_amd64.s", "-stubs", "u8i8_amd64_decl.go", "-pkg", "kernel")
	cmd.Dir = dir
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("asmgen: %v\n%s", err, out)
	}
	for _, f := range []string{"u8i8_amd64.s", "u8i8_amd64_decl.go"} {
		got, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		want, err := os.ReadFile(filepath.Join(dir, f))
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, want) {
			t.Errorf("%s differs from the generator's output: run go generate ./model/kernel", f)
		}
	}
}
