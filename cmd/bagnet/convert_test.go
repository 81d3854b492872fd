package main

import (
	"image"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/bagnetweb/bagnet/internal/testfixture"
	"github.com/bagnetweb/bagnet/model"
	"github.com/bagnetweb/bagnet/model/kernel/tensorkernel"
	"github.com/bagnetweb/bagnet/preprocess"
	"github.com/bagnetweb/bagnet/weights"
	"github.com/bagnetweb/bagnet/weights/pth"
)

// fixtureImage is one of the reference inputs of testdata/fixtures.
type fixtureImage = testfixture.Image

func fixtureImages(t *testing.T) []fixtureImage {
	t.Helper()
	return testfixture.Images(t, filepath.Join(fixtures, "inputs.safetensors"))
}

// calibDir writes the fixture images as PNG files into a new directory.
func calibDir(t *testing.T, imgs []fixtureImage) string {
	t.Helper()
	dir := t.TempDir()
	for _, im := range imgs {
		m := image.NewRGBA(image.Rect(0, 0, im.W, im.H))
		for i := 0; i < im.H*im.W; i++ {
			copy(m.Pix[4*i:], im.RGB[3*i:3*i+3])
			m.Pix[4*i+3] = 255
		}
		writePNG(t, dir, im.Name+".png", m)
	}
	return dir
}

// Every serialisation of the PyTorch fixtures converts to a float model
// whose forward pass matches PyTorch's float64 reference, and to an int8
// model that stays close to it.
func TestConvertFixtures(t *testing.T) {
	imgs := fixtureImages(t)
	calib := calibDir(t, imgs)
	for _, tt := range testfixture.Checkpoints() {
		t.Run(tt.File, func(t *testing.T) {
			in := filepath.Join(fixtures, tt.File)
			ref := testfixture.ReadSafetensors(t, filepath.Join(fixtures, tt.Arch+"_ref.safetensors"))
			dir := t.TempDir()

			// float32
			fout := filepath.Join(dir, "float.safetensors")
			out, errOut, code := runCmd(t, "convert", "-float", "-arch", tt.Arch, "-preprocess", "squash", "-size", "64", "-o", fout, in)
			if code != 0 {
				t.Fatalf("convert -float: exit %d: %s", code, errOut)
			}
			if !strings.Contains(out, "float32") || errOut != "" {
				t.Errorf("convert -float: stdout %q stderr %q", out, errOut)
			}
			fm, err := weights.LoadFile(fout)
			if err != nil {
				t.Fatal(err)
			}
			if fm.Float == nil || fm.Config.Arch != tt.Arch || fm.Config.Width != 0.125 || fm.InputSize != 64 || fm.Resize != "squash" {
				t.Fatalf("float file: %+v", fm.Meta)
			}
			if fm.Info["source"] != tt.File || len(fm.Info["source_sha256"]) != 64 {
				t.Errorf("info %v", fm.Info)
			}
			for i, c := range fm.Classes {
				if c.Name != "class "+string(rune('0'+i)) {
					t.Errorf("class %d named %q", i, c.Name)
				}
			}
			mean, std := model.ImageNetNorm()
			for _, im := range imgs {
				want, err := ref.F32(im.Name+".logits", []int{fm.Config.Classes})
				if err != nil {
					t.Fatal(err)
				}
				x := model.NormalizedInput(im.RGB, im.H, im.W, mean, std)
				got, feat, err := fm.Float.Forward(x)
				if err != nil {
					t.Fatal(err)
				}
				scale := testfixture.MaxAbs(want)
				for c := range want {
					if d := math.Abs(float64(got[c] - want[c])); d > 1e-4*scale {
						t.Errorf("%s class %d: logit %v, PyTorch %v (|diff| %.3g > 1e-4 x %.3g)", im.Name, c, got[c], want[c], d, scale)
					}
				}
				wantEv, err := ref.F32(im.Name+".evidence", []int{feat.H, feat.W, fm.Config.Classes})
				if err != nil {
					t.Fatal(err)
				}
				evScale := testfixture.MaxAbs(wantEv)
				for c := 0; c < fm.Config.Classes; c++ {
					ev := fm.Float.Evidence(feat, c)
					for p, v := range ev {
						if d := math.Abs(float64(v - wantEv[p*fm.Config.Classes+c])); d > 1e-4*evScale {
							t.Fatalf("%s class %d patch %d: evidence %v, PyTorch %v (|diff| %.3g > 1e-4 x %.3g)", im.Name, c, p, v, wantEv[p*fm.Config.Classes+c], d, evScale)
						}
					}
				}
			}

			// int8, calibrated on the fixture images
			qout := filepath.Join(dir, "int8.safetensors")
			out, errOut, code = runCmd(t, "convert", "-calib", calib, "-preprocess", "squash", "-size", "64", "-name", "test model", "-o", qout, in)
			if code != 0 {
				t.Fatalf("convert int8: exit %d: %s", code, errOut)
			}
			if !strings.Contains(out, "int8") || !strings.Contains(out, "calibrated on 3 images") {
				t.Errorf("convert int8: stdout %q", out)
			}
			qm, err := weights.LoadFile(qout)
			if err != nil {
				t.Fatal(err)
			}
			if qm.Int8 == nil || qm.Name != "test model" || qm.Info["calib_images"] != "3" || qm.Info["calib_check"] == "" {
				t.Fatalf("int8 file: %+v", qm.Meta)
			}
			// Reference: the same calibration done directly with the model
			// package on the preprocessed calibration images.
			sd, err := pth.Load(in)
			if err != nil {
				t.Fatal(err)
			}
			net, err := model.NewNet(fm.Config, sd)
			if err != nil {
				t.Fatal(err)
			}
			net.Kernels = tensorkernel.Kernels{}
			var cal model.Calibrator
			net.Observe = cal.Observer()
			for _, im := range imgs {
				b, err := os.ReadFile(filepath.Join(calib, im.Name+".png"))
				if err != nil {
					t.Fatal(err)
				}
				rgb, _, err := preprocess.Image(b, preprocess.Squash, 64)
				if err != nil {
					t.Fatal(err)
				}
				if _, _, err := net.Forward(model.NormalizedInput(rgb, 64, 64, mean, std)); err != nil {
					t.Fatal(err)
				}
			}
			q, err := model.Quantize(net, mean, std, cal.Scales())
			if err != nil {
				t.Fatal(err)
			}
			for _, im := range imgs {
				want, _ := ref.F32(im.Name+".logits", []int{qm.Config.Classes})
				f, err := qm.Int8.Features(im.RGB, im.H, im.W)
				if err != nil {
					t.Fatal(err)
				}
				got := qm.Int8.Logits(f)
				rf, _ := q.Features(im.RGB, im.H, im.W)
				if wantQ := q.Logits(rf); !reflect.DeepEqual(got, wantQ) {
					t.Errorf("%s: int8 file logits %v, direct calibration %v", im.Name, got, wantQ)
				}
				// The random fixture networks are sensitive to quantization
				// (and calibration here sees resized images), so this is only
				// a sanity check against PyTorch.
				if c := testfixture.Cosine(got, want); c < 0.8 {
					t.Errorf("%s: int8 vs PyTorch logit cosine %.4f < 0.8 (int8 %v, PyTorch %v)", im.Name, c, got, want)
				}
			}
		})
	}
}

func TestParseClasses(t *testing.T) {
	tests := []struct {
		name, in string
		want     []weights.Class
		err      string
	}{
		{"indexed tsv", "0\tn01\ttench\n1\tn02\tgreat white shark\n", []weights.Class{{ID: "n01", Name: "tench"}, {ID: "n02", Name: "great white shark"}}, ""},
		{"two columns, CRLF, comments", "# wnid name\r\nn01\ttench\r\n\r\nn02\tEnglish springer\r\n", []weights.Class{{ID: "n01", Name: "tench"}, {ID: "n02", Name: "English springer"}}, ""},
		{"space separated", "n01 tench\nn02 great white shark\nn03\n", []weights.Class{{ID: "n01", Name: "tench"}, {ID: "n02", Name: "great white shark"}, {ID: "n03", Name: "n03"}}, ""},
		{"index out of order", "0\tn01\ta\n2\tn02\tb\n", nil, `line 2: index "2", want 1`},
		{"repeated id", "n01 a\nn01 b\n", nil, "class id n01 repeats line 1"},
		{"too many fields", "0\tn01\ta\tb\n", nil, "4 tab-separated fields"},
		{"empty", "# nothing\n\n", nil, "no classes listed"},
		{"binary", "\xff\xfe\x00bad", nil, "not a text class list"},
	}
	for _, tt := range tests {
		got, err := parseClasses([]byte(tt.in))
		if tt.err != "" {
			if err == nil || !strings.Contains(err.Error(), tt.err) {
				t.Errorf("%s: error %v, want %q", tt.name, err, tt.err)
			}
			continue
		}
		if err != nil || !reflect.DeepEqual(got, tt.want) {
			t.Errorf("%s: got %v, %v; want %v", tt.name, got, err, tt.want)
		}
	}
}

func TestConvertClassesFile(t *testing.T) {
	dir := t.TempDir()
	in := filepath.Join(fixtures, "bagnet9.pth")
	var lines []string
	for i := 0; i < 10; i++ {
		lines = append(lines, "n0"+string(rune('0'+i))+"\tthing "+string(rune('a'+i)))
	}
	good := filepath.Join(dir, "classes.txt")
	mustWrite(t, good, strings.Join(lines, "\n")+"\n")
	short := filepath.Join(dir, "short.txt")
	mustWrite(t, short, strings.Join(lines[:9], "\n")+"\n")

	out := filepath.Join(dir, "m.safetensors")
	if _, errOut, code := runCmd(t, "convert", "-float", "-classes", good, "-o", out, in); code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	m, err := weights.LoadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	if m.Classes[3] != (weights.Class{ID: "n03", Name: "thing d"}) || m.Resize != "crop" || m.InputSize != 224 {
		t.Errorf("meta %+v", m.Meta)
	}

	_, errOut, code := runCmd(t, "convert", "-float", "-classes", short, "-o", filepath.Join(dir, "x.safetensors"), in)
	if code != 1 || !strings.Contains(errOut, "lists 9 classes, the checkpoint's head has 10 outputs") {
		t.Errorf("short list: exit %d, %q", code, errOut)
	}
	checkOneLine(t, errOut)
	if _, err := os.Stat(filepath.Join(dir, "x.safetensors")); !os.IsNotExist(err) {
		t.Errorf("a failed convert left an output file (%v)", err)
	}
}

// A checkpoint named by torch.hub's convention (NAME-HASH.EXT) whose
// SHA-256 does not start with HASH converts with a warning; one that
// matches converts silently.
func TestConvertChecksHubHash(t *testing.T) {
	src := filepath.Join(fixtures, "bagnet9.pth")
	sum, err := fileSHA256(src)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	for _, tt := range []struct {
		name string
		warn bool
	}{
		{"bagnet9-" + sum[:8] + ".pth", false},
		{"bagnet9-0badc0de.pth", true},
	} {
		in := filepath.Join(dir, tt.name)
		copyFile(t, src, in)
		_, errOut, code := runCmd(t, "convert", "-float", "-o", filepath.Join(dir, "out.safetensors"), in)
		if code != 0 {
			t.Fatalf("%s: exit %d: %s", tt.name, code, errOut)
		}
		warned := strings.Contains(errOut, "warning: "+in+": SHA-256 "+sum[:16]) && strings.Contains(errOut, "0badc0de")
		if warned != tt.warn || (!tt.warn && errOut != "") {
			t.Errorf("%s: stderr %q, want a warning: %v", tt.name, errOut, tt.warn)
		}
	}
}

// -classes imagenet, and no -classes for a 1000-class head, select the
// built-in ImageNet list (no ../shared); for another head size it is a
// usage error.
func TestConvertClassesImagenet(t *testing.T) {
	for _, flag := range []string{"imagenet", ""} {
		cs, err := (&convertOpts{classes: flag}).loadClasses(1000)
		if err != nil || len(cs) != 1000 || cs[0] != (weights.Class{ID: "n01440764", Name: "tench"}) || cs[999].ID != "n15075141" {
			t.Errorf("-classes %q: %d classes, %v", flag, len(cs), err)
		}
	}
	_, errOut, code := runCmd(t, "convert", "-float", "-classes", "imagenet", "-o", filepath.Join(t.TempDir(), "m.safetensors"), filepath.Join(fixtures, "bagnet9.pth"))
	if code != 2 || !strings.Contains(errOut, "-classes imagenet lists 1000 classes, the checkpoint's head has 10 outputs") {
		t.Errorf("10-class head: exit %d, %q", code, errOut)
	}
}
