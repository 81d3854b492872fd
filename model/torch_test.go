package model_test

import (
	"math"
	"testing"

	"github.com/bagnetweb/bagnet/internal/testfixture"
	"github.com/bagnetweb/bagnet/model"
	"github.com/bagnetweb/bagnet/weights/safetensors"
)

// The golden fixtures are written by weights/train/make_fixtures.py with
// PyTorch (float64 reference, cast to float32): reduced-width BagNet-9/17/33
// with non-trivial BN statistics, three synthetic images (64x64, 80x96,
// 97x97), and PyTorch's logits, evidence maps and feature maps.
const fixtures = "../testdata/fixtures/"

func stateDict(t *testing.T, f *safetensors.File) model.StateDict {
	sd := model.StateDict{}
	for _, x := range f.Tensors {
		v, err := f.F32(x.Name, nil)
		if err != nil {
			t.Fatal(err)
		}
		sd[x.Name] = &model.Tensor{Shape: x.Shape, Data: v}
	}
	return sd
}

type fixtureImage = testfixture.Image

func fixtureImages(t *testing.T) []fixtureImage {
	imgs := testfixture.Images(t, fixtures+"inputs.safetensors")
	if len(imgs) < 3 {
		t.Fatalf("only %d fixture images", len(imgs))
	}
	return imgs
}

var imagenetMean, imagenetStd = [3]float32{0.485, 0.456, 0.406}, [3]float32{0.229, 0.224, 0.225}

// TestAgainstPyTorch checks, for every architecture and fixture image:
//   - float32 logits equal PyTorch's to 1e-4 of the logit scale (max |logit|);
//   - every evidence map equals PyTorch's to 1e-4 of the evidence scale
//     (max |evidence|). Per-patch evidence is a sum, not a mean, and on these
//     fixtures it reaches 10x the logits; PyTorch's own float32 forward is off
//     from its float64 reference by the same amount (measured: 3.4e-3 at an
//     evidence scale of 60 for bagnet9/img0, as ours), so this is as exact as
//     float32 allows;
//   - the feature map agrees to 3e-4 of its scale;
//   - the int8 path picks the same top-1 and its logits stay close to float.
//     These tiny width-1/8 random nets (8 channels per layer, 4x4 maps) are a
//     hard case for 8-bit activations (logit cosine 0.94-0.997 measured); the
//     0.999 bar is asserted on the trained default model (cmd/bagnet tests).
func TestAgainstPyTorch(t *testing.T) {
	imgs := fixtureImages(t)
	for _, arch := range []string{"bagnet9", "bagnet17", "bagnet33"} {
		sd := stateDict(t, testfixture.ReadSafetensors(t, fixtures+arch+"_state.safetensors"))
		cfg, err := model.DetectConfig(sd)
		if err != nil {
			t.Fatal(err)
		}
		if cfg.Arch != arch || cfg.Width != 0.125 || cfg.Classes != 10 {
			t.Fatalf("%s: detected %+v", arch, cfg)
		}
		net, err := model.NewNet(cfg, sd)
		if err != nil {
			t.Fatal(err)
		}
		ref := testfixture.ReadSafetensors(t, fixtures+arch+"_ref.safetensors")

		// Calibrate the int8 network on the fixture images themselves.
		var cal model.Calibrator
		net.Observe = cal.Observer()
		for _, im := range imgs {
			if _, _, err := net.Forward(model.NormalizedInput(im.RGB, im.H, im.W, imagenetMean, imagenetStd)); err != nil {
				t.Fatal(err)
			}
		}
		net.Observe = nil
		q, err := model.Quantize(net, imagenetMean, imagenetStd, cal.Scales())
		if err != nil {
			t.Fatal(err)
		}

		for _, im := range imgs {
			t.Run(arch+"/"+im.Name, func(t *testing.T) {
				wantLogits, err := ref.F32(im.Name+".logits", nil)
				if err != nil {
					t.Fatal(err)
				}
				wantEv, err := ref.F32(im.Name+".evidence", nil)
				if err != nil {
					t.Fatal(err)
				}
				wantFeat, err := ref.F32(im.Name+".features", nil)
				if err != nil {
					t.Fatal(err)
				}
				logits, feat, err := net.Forward(model.NormalizedInput(im.RGB, im.H, im.W, imagenetMean, imagenetStd))
				if err != nil {
					t.Fatal(err)
				}
				scale := testfixture.MaxAbs(wantLogits)
				tol := 1e-4 * scale
				var worst float64
				for c := range logits {
					worst = math.Max(worst, math.Abs(float64(logits[c]-wantLogits[c])))
				}
				if worst > tol {
					t.Errorf("logits differ by %.3g (> %.3g): go %v torch %v", worst, tol, logits, wantLogits)
				}
				ft, _ := ref.Tensor(im.Name + ".features")
				if feat.H != ft.Shape[0] || feat.W != ft.Shape[1] || feat.C != ft.Shape[2] {
					t.Fatalf("feature map %dx%dx%d, torch %v", feat.H, feat.W, feat.C, ft.Shape)
				}
				fs := testfixture.MaxAbs(wantFeat)
				for i := range feat.Data {
					if d := math.Abs(float64(feat.Data[i] - wantFeat[i])); d > 3e-4*fs {
						t.Fatalf("feature %d differs by %.3g (max %.3g)", i, d, fs)
					}
				}
				var worstEv float64
				evTol := 1e-4 * testfixture.MaxAbs(wantEv)
				for c := 0; c < cfg.Classes; c++ {
					ev := net.Evidence(feat, c)
					for p, v := range ev {
						worstEv = math.Max(worstEv, math.Abs(float64(v-wantEv[p*cfg.Classes+c])))
					}
				}
				if worstEv > evTol {
					t.Errorf("evidence maps differ by %.3g (> %.3g)", worstEv, evTol)
				}
				t.Logf("float vs torch: logits max err %.2g, evidence max err %.2g (logit scale %.3g)", worst, worstEv, scale)

				qf, err := q.Features(im.RGB, im.H, im.W)
				if err != nil {
					t.Fatal(err)
				}
				ql := q.Logits(qf)
				c := testfixture.Cosine(ql, logits)
				if model.Argmax(ql) != model.Argmax(logits) {
					t.Errorf("int8 top-1 %d, float %d (int8 %v float %v)", model.Argmax(ql), model.Argmax(logits), ql, logits)
				}
				if c < 0.93 {
					t.Errorf("int8 vs float logit cosine %.5f < 0.93", c)
				}
				t.Logf("int8 vs float: logit cosine %.6f, feature cosine %.6f", c, testfixture.Cosine(qf.Dequantize().Data, feat.Data))
			})
		}
	}
}
