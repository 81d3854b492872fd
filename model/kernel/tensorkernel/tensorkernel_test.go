package tensorkernel

import (
	"math"
	"math/rand/v2"
	"os/exec"
	"strings"
	"testing"

	"github.com/bagnetweb/bagnet/model/kernel"
	"github.com/bagnetweb/bagnet/model/kernel/kerneltest"
)

func TestF32MatchesReference(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	for _, sz := range [][3]int{{1, 1, 1}, {1, 10, 64}, {37, 1, 5}, {50, 33, 576}, {130, 64, 27}} {
		m, n, k := sz[0], sz[1], sz[2]
		a, b := make([]float32, m*k), make([]float32, n*k)
		for i := range a {
			a[i] = float32(r.NormFloat64())
		}
		for i := range b {
			b[i] = float32(r.NormFloat64())
		}
		want, got := make([]float32, m*n), make([]float32, m*n)
		kernel.Reference{}.F32(m, n, k, a, b, want)
		Kernels{}.F32(m, n, k, a, b, got)
		for i := range want {
			if math.Abs(float64(want[i]-got[i])) > 1e-4*math.Sqrt(float64(k)) {
				t.Fatalf("%v: [%d] = %v, reference %v", sz, i, got[i], want[i])
			}
		}
	}
}

// The browser builds must not link gorgonia (+20.6 MB raw, +3.6 MB gzip).
func TestNotInWasmBuilds(t *testing.T) {
	if testing.Short() {
		t.Skip("runs go list")
	}
	cmd := exec.Command("go", "list", "-deps", "./wasm/...", "./engine", "./model/...", "./preprocess", "./weights")
	cmd.Dir = "../../.."
	cmd.Env = append(cmd.Environ(), "GOOS=js", "GOARCH=wasm")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, out)
	}
	deps := string(out)
	if !strings.Contains(deps, "github.com/bagnetweb/bagnet/model\n") {
		t.Fatalf("go list did not list the model package:\n%s", deps)
	}
	// Nor the native kernels' machinery: wazero (wazerokernel), avo (the
	// assembly generator) and x/sys/cpu (the AVX2 check, amd64 only).
	for _, bad := range []string{"gorgonia.org/", "github.com/nlpodyssey/gopickle", "github.com/chromedp/",
		"github.com/tetratelabs/wazero", "github.com/mmcloughlin/avo", "golang.org/x/sys/cpu",
		"github.com/bagnetweb/bagnet/model/kernel/wazerokernel\n", "github.com/bagnetweb/bagnet/model/kernel/internal/asmgen\n"} {
		if strings.Contains(deps, bad) {
			t.Errorf("a js/wasm build depends on %s", bad)
		}
	}
}

// BenchmarkF32 compares the float32 GEMMs natively on BagNet-33's layer
// shapes: BLAS (this package), the pure-Go Fast, and the default kernel's
// int8 GEMM on the same shapes for scale.
func BenchmarkF32(b *testing.B) {
	for _, l := range kerneltest.BagNet33GEMMs {
		o := l.Operands(9)
		kerneltest.BenchF32(b, l.Name+"/f32/blas", l, o, Kernels{})
		kerneltest.BenchF32(b, l.Name+"/f32/fast", l, o, kernel.Fast{})
		kerneltest.BenchU8I8(b, l.Name+"/int8/default", l, o, kernel.Default())
	}
}
