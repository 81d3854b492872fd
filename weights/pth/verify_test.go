package pth_test

import (
	"fmt"
	"math"
	"os"
	"path/filepath"
	"testing"

	"github.com/bagnetweb/bagnet/model"
	"github.com/bagnetweb/bagnet/model/kernel/tensorkernel"
	"github.com/bagnetweb/bagnet/weights/pth"
	"github.com/bagnetweb/bagnet/weights/safetensors"
)

// TestVerifyTorch checks a full-size BagNet-33 (1000 classes) against PyTorch:
// `make verify-torch` writes the checkpoints and references with
// weights/train/verify_full.py and runs this with BAGNET_VERIFY_DIR set.
func TestVerifyTorch(t *testing.T) {
	dir := os.Getenv("BAGNET_VERIFY_DIR")
	if dir == "" {
		t.Skip("BAGNET_VERIFY_DIR not set (run make verify-torch)")
	}
	b, err := os.ReadFile(filepath.Join(dir, "ref.safetensors"))
	if err != nil {
		t.Fatal(err)
	}
	ref, err := safetensors.Parse(b)
	if err != nil {
		t.Fatal(err)
	}
	mean, std := [3]float32{0.485, 0.456, 0.406}, [3]float32{0.229, 0.224, 0.225}
	for _, ckpt := range []string{"bagnet32-full.pth.tar", "bagnet32-full.pth"} {
		sd, err := pth.Load(filepath.Join(dir, ckpt))
		if err != nil {
			t.Fatal(err)
		}
		cfg, err := model.DetectConfig(sd)
		if err != nil {
			t.Fatal(err)
		}
		if cfg != (model.Config{Arch: "bagnet33", Width: 1, Classes: 1000}) {
			t.Fatalf("%s: detected %+v", ckpt, cfg)
		}
		net, err := model.NewNet(cfg, sd)
		if err != nil {
			t.Fatal(err)
		}
		net.Kernels = tensorkernel.Kernels{}
		var inputs [][]uint8
		var feats []*model.Map
		var logitsF [][]float32
		for i := 0; ; i++ {
			name := fmt.Sprintf("img%d", i)
			if !ref.Has(name) {
				break
			}
			img, _ := ref.Tensor(name)
			rgb := append([]uint8(nil), img.Data...)
			logits, f, err := net.Forward(model.NormalizedInput(rgb, 224, 224, mean, std))
			if err != nil {
				t.Fatal(err)
			}
			want, _ := ref.F32(name+".logits", nil)
			var worst, scale float64
			for c := range want {
				worst = math.Max(worst, math.Abs(float64(logits[c]-want[c])))
				scale = math.Max(scale, math.Abs(float64(want[c])))
			}
			if worst > 1e-4*scale {
				t.Errorf("%s %s: logits differ by %.3g (scale %.3g)", ckpt, name, worst, scale)
			}
			top, _ := ref.F32(name+".top5", nil)
			ev, _ := ref.F32(name+".evidence_top5", nil)
			var evWorst, evScale float64
			for j, c := range top {
				got := net.Evidence(f, int(c))
				for p := range got {
					w := ev[p*len(top)+j]
					evWorst = math.Max(evWorst, math.Abs(float64(got[p]-w)))
					evScale = math.Max(evScale, math.Abs(float64(w)))
				}
			}
			if evWorst > 1e-4*evScale {
				t.Errorf("%s %s: evidence differs by %.3g (scale %.3g)", ckpt, name, evWorst, evScale)
			}
			t.Logf("%s %s: %dx%d map; float32 vs PyTorch float64: logits max err %.2g (%.1e of scale %.3g), top-5 evidence max err %.2g (%.1e of scale %.3g)",
				ckpt, name, f.H, f.W, worst, worst/scale, scale, evWorst, evWorst/evScale, evScale)
			inputs, feats, logitsF = append(inputs, rgb), append(feats, f), append(logitsF, logits)
		}
		if len(inputs) == 0 {
			t.Fatal("no reference images")
		}
		// int8: calibrate on the reference images, then compare with float.
		var cal model.Calibrator
		net.Observe = cal.Observer()
		for _, rgb := range inputs {
			net.Forward(model.NormalizedInput(rgb, 224, 224, mean, std))
		}
		net.Observe = nil
		q, err := model.Quantize(net, mean, std, cal.Scales())
		if err != nil {
			t.Fatal(err)
		}
		for i, rgb := range inputs {
			f, err := q.Features(rgb, 224, 224)
			if err != nil {
				t.Fatal(err)
			}
			lq := q.Logits(f)
			var ab, aa, bb float64
			for c := range lq {
				ab += float64(lq[c]) * float64(logitsF[i][c])
				aa += float64(lq[c]) * float64(lq[c])
				bb += float64(logitsF[i][c]) * float64(logitsF[i][c])
			}
			t.Logf("%s img%d: int8 vs float logit cosine %.5f", ckpt, i, ab/math.Sqrt(aa*bb))
		}
		_ = feats
	}
}
