package main

import (
	"bytes"
	"encoding/base64"
	"errors"
	"image/jpeg"
	"math"
	"strings"
	"testing"
)

// TestClassifyThumb checks that a classification with a thumbnail gives
// the same result as without, and a JPEG data: URL of the image scaled to
// the asked size; bad sizes and images are errors.
func TestClassifyThumb(t *testing.T) {
	e, _ := testEngine(t)
	w := worker{eng: e}
	img := pngBytes(t, 200, 120, 4)
	_, plain, err := w.classify(1, img, 5, clock())
	if err != nil {
		t.Fatal(err)
	}
	_, m, err := w.classifyThumb(2, img, 5, 48, clock())
	if err != nil {
		t.Fatal(err)
	}
	for i := range plain.Result.Logits {
		if math.Float32bits(plain.Result.Logits[i]) != math.Float32bits(m.Result.Logits[i]) {
			t.Fatalf("logit %d: %v with a thumbnail, %v without", i, m.Result.Logits[i], plain.Result.Logits[i])
		}
	}
	if len(m.Maps) != len(plain.Maps) {
		t.Errorf("%d evidence maps with a thumbnail, %d without", len(m.Maps), len(plain.Maps))
	}
	b64, ok := strings.CutPrefix(m.Thumb, "data:image/jpeg;base64,")
	if !ok {
		t.Fatalf("thumb %.40q, want a JPEG data: URL", m.Thumb)
	}
	raw, err := base64.StdEncoding.DecodeString(b64)
	if err != nil {
		t.Fatal(err)
	}
	th, err := jpeg.Decode(bytes.NewReader(raw))
	if err != nil {
		t.Fatal(err)
	}
	if b := th.Bounds(); b.Dx() != 48 || b.Dy() != 29 {
		t.Errorf("thumbnail %v, want 48x29", b)
	}
	if len(m.Thumb) > 48*48*4 {
		t.Errorf("thumbnail URL of %d bytes: more than a 48x48 image's raw pixels", len(m.Thumb))
	}
	if _, err := w.mem.get(2); err != nil {
		t.Errorf("the analysis is not kept: %v", err)
	}

	for _, side := range []int{-1, 257} {
		if _, _, err := w.classifyThumb(3, img, 5, side, clock()); err == nil || !strings.Contains(err.Error(), "thumbnail size") {
			t.Errorf("thumbnail size %d: err = %v", side, err)
		}
	}
	if _, _, err := w.classifyThumb(3, []byte("not an image"), 5, 48, clock()); err == nil {
		t.Error("not an image: no error")
	}
	var empty worker
	if _, _, err := empty.classifyThumb(1, img, 5, 48, clock()); !errors.Is(err, errNoModel) {
		t.Errorf("no model: err = %v, want errNoModel", err)
	}
}
