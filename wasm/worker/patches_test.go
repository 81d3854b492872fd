package main

import (
	"bytes"
	"errors"
	"image"
	"image/png"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/bagnetweb/bagnet/engine"
	"github.com/bagnetweb/bagnet/geom"
	"github.com/bagnetweb/bagnet/heatmap"
	"github.com/bagnetweb/bagnet/internal/testmodel"
	"github.com/bagnetweb/bagnet/patchset"
	"github.com/bagnetweb/bagnet/preprocess"
	"github.com/bagnetweb/bagnet/protocol"
	"github.com/bagnetweb/bagnet/weights/shipped"
)

// A batch image's candidates are, for every class, the best cells of that
// class's evidence map (patchset.Candidates of the engine's map), also for
// a model with more classes than the maps a result carries.
func TestPatchCandidates(t *testing.T) {
	small, _ := testEngine(t)
	b, err := testmodel.Int8(testmodel.Options{InputSize: 64, Width: 0.125, Seed: 2, Classes: 40})
	if err != nil {
		t.Fatal(err)
	}
	big, err := engine.Load(b)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range []*engine.Engine{small, big} {
		w := &worker{eng: e}
		a, m, err := w.classify(1, pngBytes(t, 90, 70, 3), 5, clock())
		if err != nil {
			t.Fatal(err)
		}
		for _, k := range []int{1, 3} {
			wire, err := w.patchCandidates(a, m, k)
			if err != nil {
				t.Fatal(err)
			}
			n := len(a.Logits)
			if wire.K != k || len(wire.Cells) != 2*k*n || len(wire.Evidence) != 2*k*n {
				t.Fatalf("%d classes, k %d: %d cells, %d values", n, k, len(wire.Cells), len(wire.Evidence))
			}
			for c := 0; c < n; c++ {
				ev, _ := a.Evidence(c)
				pos, neg := patchset.Candidates(ev, k)
				for i, x := range append(pos, neg...) {
					at := 2*k*c + i
					if wire.Cells[at] != x.Cell || wire.Evidence[at] != x.Evidence || ev[x.Cell] != x.Evidence {
						t.Errorf("%d classes, class %d, candidate %d: cell %d (%v), want %d (%v)", n, c, i, wire.Cells[at], wire.Evidence[at], x.Cell, x.Evidence)
					}
				}
			}
		}
		if _, err := w.patchCandidates(a, m, 0); err == nil {
			t.Error("0 patches per image: no error")
		}
	}
}

// crops are 'bagnet patches' tiles (heatmap.Crop of the decoded image), one
// after another; bad requests say what is wrong.
func TestCrops(t *testing.T) {
	img := pngBytes(t, 90, 70, 3)
	boxes := [][4]float64{{0, 0, 33, 33}, {-4.5, 10, 60, 80.25}}
	got, err := crops(img, boxes, 20)
	if err != nil {
		t.Fatal(err)
	}
	src, _ := png.Decode(bytes.NewReader(img))
	if _, _, err := preprocess.Decode(img); err != nil {
		t.Fatal(err)
	}
	var want []byte
	for _, b := range boxes {
		want = append(want, heatmap.Crop(src, geom.Rect[float64]{X0: b[0], Y0: b[1], X1: b[2], Y1: b[3]}, 20, 20).Pix...)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("crops differ from heatmap.Crop (%d bytes, want %d)", len(got), len(want))
	}
	for _, tt := range []struct {
		img   []byte
		boxes [][4]float64
		tile  int
		want  string
	}{
		{img, boxes, 8, "tile 8 out of range"},
		{img, nil, 20, "0 boxes"},
		{img, [][4]float64{{0, 0, 1e300, 1}}, 20, "not a finite pixel position"},
		{[]byte("not an image"), boxes, 20, "not a supported image"},
	} {
		if _, err := crops(tt.img, tt.boxes, tt.tile); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("crops(%d boxes, tile %d) = %v, want an error with %q", len(tt.boxes), tt.tile, err, tt.want)
		}
	}
}

// BenchmarkBatchImage is one image of a page batch in the worker: its
// classification (the evidence maps sent with the result included), and
// the extra work of its patch candidates of every class, for the shipped
// model (10 classes: the maps are there already) and a 1000-class model at
// 128 pixels (the candidates need every class's map: EvidenceAll).
func BenchmarkBatchImage(b *testing.B) {
	img, err := os.ReadFile(filepath.Join("..", "..", "..", "shared", "data", "samples", "n01440764_tench.jpg"))
	if err != nil {
		b.Skip(err)
	}
	big, err := testmodel.Int8(testmodel.Options{InputSize: 128, Width: 0.25, Seed: 3, Classes: 1000})
	if err != nil {
		b.Fatal(err)
	}
	for _, m := range []struct {
		name string
		file []byte
	}{{"shipped", shipped.Model()}, {"1000classes", big}} {
		e, err := engine.Load(m.file)
		if err != nil {
			b.Fatal(err)
		}
		w := &worker{eng: e}
		a, msg, err := w.classify(1, img, 5, clock())
		if err != nil {
			b.Fatal(err)
		}
		b.Run(m.name+"/classify", func(b *testing.B) {
			for i := 0; i < b.N; i++ {
				if _, _, err := w.classify(1, img, 5, clock()); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(m.name+"/candidates", func(b *testing.B) {
			for i := 0; i < b.N; i++ {
				if _, err := w.patchCandidates(a, msg, 1); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// encodePNG is image/png's file of the pixels; bad sizes are errors.
func TestEncodePNG(t *testing.T) {
	img := image.NewRGBA(image.Rect(0, 0, 7, 5))
	for i := range img.Pix {
		img.Pix[i] = uint8(i * 37)
	}
	var want bytes.Buffer
	if err := png.Encode(&want, img); err != nil {
		t.Fatal(err)
	}
	got, err := encodePNG(7, 5, img.Pix)
	if err != nil || !bytes.Equal(got, want.Bytes()) {
		t.Errorf("encodePNG: %d bytes (%v), want image/png's %d", len(got), err, want.Len())
	}
	for _, tt := range []struct {
		w, h int
		n    int
		want string
	}{{7, 5, 10, "10 bytes for 7x5"}, {0, 5, 0, "want 1 to"}, {1 << 15, 1, 4 << 15, "want 1 to"}} {
		if _, err := encodePNG(tt.w, tt.h, make([]byte, tt.n)); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("encodePNG(%d, %d, %d bytes) = %v, want an error with %q", tt.w, tt.h, tt.n, err, tt.want)
		}
	}
}

// localPatcher computes results with its own worker, as a band worker
// does; fail makes it fail every image, wrong answer a result of the
// wrong size.
type localPatcher struct {
	w           *worker
	fail, wrong bool
}

func (p *localPatcher) patches(img []byte, topK, k int, due time.Time) func() (protocol.PatchesImage, error) {
	r, err := p.w.patchesOne(img, topK, k, clock())
	return func() (protocol.PatchesImage, error) {
		switch {
		case p.fail:
			return protocol.PatchesImage{}, errors.New("band worker: failed on purpose")
		case p.wrong && err == nil:
			r.Result.Logits = r.Result.Logits[:1]
		}
		return r, err
	}
}

// Several images' results at once (PatchesRequest), spread over the
// worker and its band workers (some failing), are each image's classify
// with patch candidates: the same top classes, map, transform and
// candidates; a bad image gets its error and the others their results;
// also for a model with more classes than a result's maps.
func TestPatchesMany(t *testing.T) {
	small, _ := testEngine(t)
	b, err := testmodel.Int8(testmodel.Options{InputSize: 64, Width: 0.125, Seed: 2, Classes: 40})
	if err != nil {
		t.Fatal(err)
	}
	big, err := engine.Load(b)
	if err != nil {
		t.Fatal(err)
	}
	imgs := [][]byte{pngBytes(t, 90, 70, 3), []byte("not an image"), pngBytes(t, 40, 60, 4), pngBytes(t, 64, 64, 5), pngBytes(t, 33, 80, 6)}
	for _, e := range []*engine.Engine{small, big} {
		w := &worker{eng: e}
		for _, ps := range [][]patcher{nil, {&localPatcher{w: &worker{eng: e}}}, {&localPatcher{w: &worker{eng: e}}, &localPatcher{w: &worker{eng: e}, fail: true}, &localPatcher{w: &worker{eng: e}, wrong: true}}} {
			rep, err := w.patchesMany(imgs, 3, 1, ps, clock())
			if err != nil || len(rep.Images) != len(imgs) {
				t.Fatalf("%d patchers: %v", len(ps), err)
			}
			for i, img := range imgs {
				got := rep.Images[i]
				a, m, err := w.classify(i, img, 3, clock())
				if err != nil {
					if got.Err != err.Error() {
						t.Errorf("%d patchers, image %d: error %q, want %q", len(ps), i, got.Err, err)
					}
					continue
				}
				wire, err := w.patchCandidates(a, m, 1)
				if err != nil {
					t.Fatal(err)
				}
				if got.Err != "" || !reflect.DeepEqual(got.Result, a.Result) || got.Transform != m.Meta.Transform || !reflect.DeepEqual(got.Patches, wire) {
					t.Errorf("%d patchers, %d classes, image %d: %+v, want the classification's %+v, %+v", len(ps), len(a.Logits), i, got, a.Result, wire)
				}
			}
		}
	}
	if r, err := (&worker{eng: small}).patchesMany(imgs[:1], 3, 0, nil, clock()); err != nil || !strings.Contains(r.Images[0].Err, "patches 0 per image") {
		t.Errorf("0 patches per image: %+v, %v", r, err)
	}
	if _, err := (&worker{eng: small}).patchesMany(nil, 3, 1, nil, clock()); err == nil {
		t.Error("no images: no error")
	}
}
