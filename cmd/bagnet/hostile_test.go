package main

import (
	"math"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/bagnetweb/bagnet/internal/testfixture"
	"github.com/bagnetweb/bagnet/internal/testimage"
	"github.com/bagnetweb/bagnet/internal/testmodel"
	"github.com/bagnetweb/bagnet/weights/safetensors"
)

// Hostile model and image files given to the CLI: one line naming the file
// and what is wrong, exit status 1, within a second or so and with little
// memory (the time and bytes allocated are logged; before the caps a 100 GB
// sparse file or /dev/zero ended in "fatal error: out of memory", a NaN
// head scale printed "NaN%", a 1024 px model took a minute per image and the
// scan bomb over two minutes).
func TestHostileInputs(t *testing.T) {
	dir := t.TempDir()
	w := int8Model(t, testmodel.Options{})
	wb, err := os.ReadFile(w)
	if err != nil {
		t.Fatal(err)
	}
	img := writePNG(t, dir, "img.png", synthetic(64, 64, 1))
	write := func(name string, b []byte, size int64) string {
		return testfixture.WriteFile(t, dir, name, b, size)
	}
	sparseModel := write("sparse.safetensors", nil, 100<<30)
	sparseImage := write("sparse.jpg", nil, 100<<30)
	nanScale := write("nan.safetensors", testfixture.Rewrite(t, wb, testfixture.Fill("fc.scale", float32(math.NaN()))), 0)
	infBias := write("inf.safetensors", testfixture.Rewrite(t, wb, testfixture.Fill("fc.bias", float32(math.Inf(1)))), 0)
	bigInput := write("big.safetensors", testfixture.Rewrite(t, wb, func(md map[string]string, ts []*safetensors.Tensor) []*safetensors.Tensor {
		md["input_size"] = "1024"
		return ts
	}), 0)
	jpeg := []byte("\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00")
	photoAsModel := write("photo.safetensors", jpeg, 0)
	bomb := write("bomb.jpg", testimage.ScanBomb(7000, 7000, 2000), 0)
	heat := filepath.Join(dir, "h.png")
	for _, tc := range []struct {
		name string
		args []string
		want string // the line after "bagnet: "
	}{
		{"100 GB sparse model file", []string{"classify", "-weights", sparseModel, img},
			sparseModel + ": the model file is too large: it is 107 GB (107374182400 bytes), and files over 512 MiB are not read"},
		{"/dev/zero as the model", []string{"classify", "-weights", "/dev/zero", img},
			"/dev/zero: not a BagNet model file: its header is corrupt (safetensors: header is not a JSON object: EOF)"},
		{"a JPEG as the model", []string{"classify", "-weights", photoAsModel, img},
			photoAsModel + ": not a BagNet model file: its header is corrupt (safetensors: header length 5064878326892452095 exceeds the 16777216-byte limit)"},
		{"NaN head scale", []string{"classify", "-json", "-weights", nanScale, img},
			nanScale + `: corrupt BagNet model file: tensor "fc.scale" holds NaN at element 0 (values must be finite)`},
		{"+Inf head bias", []string{"classify", "-weights", infBias, img},
			infBias + `: corrupt BagNet model file: tensor "fc.bias" holds +Inf at element 0 (values must be finite)`},
		{"1024 px input size", []string{"classify", "-weights", bigInput, img},
			bigInput + ": the model asks for 1024x1024 px input images, over the 448 px limit"},
		{"100 GB sparse image", []string{"classify", "-weights", w, sparseImage}, sparseImage + ": image file is 107 GB, over the 200 MB limit"},
		{"/dev/zero as the image", []string{"classify", "-weights", w, "/dev/zero"}, "/dev/zero: not a supported image (unknown data starting 00 00"},
		{"JPEG of 2000 scans", []string{"classify", "-weights", w, bomb}, bomb + ": JPEG of 7000x7000 pixels is too costly to decode"},
		{"heatmap of the JPEG of 2000 scans", []string{"heatmap", "-weights", w, "-o", heat, bomb}, bomb + ": JPEG of 7000x7000 pixels is too costly to decode"},
		{"heatmap of /dev/zero", []string{"heatmap", "-weights", w, "-o", heat, "/dev/zero"}, "/dev/zero: not a supported image"},
	} {
		var m0, m1 runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&m0)
		t0 := time.Now()
		_, errOut, code := runCmd(t, tc.args...)
		d := time.Since(t0)
		runtime.ReadMemStats(&m1)
		alloc := m1.TotalAlloc - m0.TotalAlloc
		if code != 1 {
			t.Errorf("%s: exit %d, want 1 (stderr %q)", tc.name, code, errOut)
		}
		checkOneLine(t, errOut)
		if !strings.HasPrefix(errOut, "bagnet: "+tc.want) {
			t.Errorf("%s: stderr %q, want it to start with %q", tc.name, errOut, "bagnet: "+tc.want)
		}
		if d > 10*time.Second || alloc > 64<<20 {
			t.Errorf("%s: took %v and allocated %d bytes", tc.name, d, alloc)
		}
		t.Logf("%s: %v, %.1f MB allocated: %s", tc.name, d.Round(time.Millisecond), float64(alloc)/1e6, strings.TrimSpace(errOut))
	}
}
