package ui

import (
	"encoding/json"
	"fmt"
	"github.com/bagnetweb/bagnet/geom"
	"math"
	"slices"
	"strings"
	"testing"

	"github.com/bagnetweb/bagnet/heatmap"
	"github.com/bagnetweb/bagnet/protocol"
	"github.com/bagnetweb/bagnet/scramble"
	"github.com/bagnetweb/bagnet/ui/viz"
)

func TestFormat(t *testing.T) {
	tests := []struct{ got, want string }{
		{Bytes(12), "12 B"},
		{Bytes(830_000), "830 kB"},
		{Bytes(1_110_368), "1.1 MB"},
		{Bytes(2_500_000_000), "2.50 GB"},
		{Count(950), "950"},
		{Count(23_500_000), "23.5 M"},
		{Count(1_200_000_000), "1.20 G"},
		{Percent(0.6273), "62.7%"},
		{Percent(0.99995), ">99.9%"},
		{Percent(0.00002), "<0.1%"},
		{Percent(1), "100.0%"},
		{Percent(0), "0.0%"},
		{Signed(1.234), "+1.23"},
		{Signed(-0.5), "\u22120.50"},
		{Signed(-0.001), "0.00"},
		{Ms(4.25), "4.2 ms"},
		{Ms(292.4), "292 ms"},
		{Ms(12345), "12.3 s"},
		{BarStyle(0.5), "width: 50.0%"},
		{BarStyle(1.7), "width: 100.0%"},
		{BarStyle(-1), "width: 0.0%"},
		{BoxStyle([4]int{32, 64, 65, 97}, 128), "left: 25.000%; top: 50.000%; width: 25.781%; height: 25.781%"},
		{BoxStyle([4]int{120, 0, 153, 33}, 128), "left: 93.750%; top: 0.000%; width: 6.250%; height: 25.781%"}, // clipped
		{BoxStyle([4]int{0, 0, 1, 1}, 0), "display: none"},
	}
	for i, tt := range tests {
		if tt.got != tt.want {
			t.Errorf("case %d: got %q, want %q", i, tt.got, tt.want)
		}
	}
}

func TestProgress(t *testing.T) {
	tests := []struct {
		p    Progress
		frac float64
		text string
	}{
		{Progress{Loaded: 500_000, Total: 1_000_000}, 0.5, "500 kB / 1.0 MB"},
		{Progress{Loaded: 2_000_000, Total: 1_000_000}, 1, "1.0 MB / 1.0 MB"},
		{Progress{Loaded: 300_000}, -1, "300 kB"},
		{Progress{Done: true}, 1, "done"},
	}
	for _, tt := range tests {
		if f := tt.p.Fraction(); f != tt.frac {
			t.Errorf("%+v.Fraction() = %v, want %v", tt.p, f, tt.frac)
		}
		if s := tt.p.Text(); s != tt.text {
			t.Errorf("%+v.Text() = %q, want %q", tt.p, s, tt.text)
		}
	}
	if got := ProgressNow(Progress{Loaded: 1, Total: 3}); got != "33" {
		t.Errorf("ProgressNow = %v, want 33", got)
	}
	if got := ProgressNow(Progress{Loaded: 1}); got != nil {
		t.Errorf("ProgressNow of unknown total = %v, want nil (no attribute)", got)
	}
}

var names = []protocol.Class{{ID: "n0", Name: "tench"}, {ID: "n1", Name: "springer"}, {ID: "n2", Name: "cassette"}}

// analysis is a 2x2 map of 33-pixel patches at stride 8 over a 48-pixel
// input (two cells per side need 8+33 = 41 pixels).
func analysis() *Analysis {
	return &Analysis{
		ID: 3,
		Result: protocol.Result{Logits: []float32{1, 3, 2},
			Top: []protocol.Prediction{{Index: 1, Name: "springer", Prob: 0.665}, {Index: 2, Name: "cassette", Prob: 0.245}, {Index: 0, Name: "tench", Prob: 0.09}}},
		Maps: map[int][]float32{
			0: {0.5, -1, 2, 0},
			1: {1, 4, -2, 5},
			2: {3, 0, 1, 2},
		},
		Bias: map[int]float32{0: 0.625, 1: 1, 2: 0.5},
		RGB:  make([]uint8, 48*48*3),
		Geo:  viz.Geometry{Size: 48, Patch: 33, Stride: 8, H: 2, W: 2},
	}
}

func TestAnalysisHelpers(t *testing.T) {
	a := analysis()
	// Cell (1, 0) holds 2, -2, 1 for classes 0, 1, 2.
	got := a.CellClasses(Cell{I: 1, J: 0, OK: true}, names, 5)
	want := []ClassScore{{0, "tench", 2}, {2, "cassette", 1}, {1, "springer", -2}}
	if !slices.Equal(got, want) {
		t.Errorf("CellClasses = %v, want %v", got, want)
	}
	if got := a.CellClasses(Cell{I: 0, J: 0, OK: true}, names, 1); len(got) != 1 || got[0].Index != 2 {
		t.Errorf("CellClasses k=1 = %v, want cassette only", got)
	}
	if got := a.CellClasses(Cell{}, names, 5); got != nil {
		t.Errorf("CellClasses of no cell = %v", got)
	}
	r := a.Ranked(names)
	if r[0].Index != 1 || r[1].Index != 2 || r[2].Index != 0 {
		t.Errorf("Ranked = %v", r)
	}
	// Softmax of (1, 3, 2): e^3 / (e + e^3 + e^2).
	e := math.E
	if p, want := a.Prob(1), e*e*e/(e+e*e*e+e*e); math.Abs(p-want) > 1e-12 {
		t.Errorf("Prob(1) = %v, want %v", p, want)
	}
	if p := a.Prob(7); p != 0 {
		t.Errorf("Prob(7) = %v, want 0", p)
	}
	if m := MeanEvidence(a, 1); m != 2 {
		t.Errorf("MeanEvidence = %v, want 2", m)
	}
	if m := MeanEvidence(a, 9); !math.IsNaN(m) {
		t.Errorf("MeanEvidence of a missing map = %v, want NaN", m)
	}
}

func TestRootViews(t *testing.T) {
	c := &Root{Info: &protocol.Info{Classes: names, InputSize: 48, Patch: 33, Stride: 8, MapH: 2, MapW: 2,
		Arch: "bagnet33", Width: 0.25, Params: 1_000_000, MACs: 300_000_000, WeightsBytes: 1_110_368, DType: "Int8",
		Resize: "squash", Meta: map[string]string{"val_top1": "0.8125", "dataset": "Imagenette"}},
		Cur: analysis(), Sel: -1}
	if c.Selected() != 1 {
		t.Errorf("Selected = %d, want the top class 1", c.Selected())
	}
	c.Sel = 0
	if c.Selected() != 0 {
		t.Errorf("Selected after choosing 0 = %d", c.Selected())
	}
	if !slices.Equal(c.GridClasses(), []int{1, 2, 0}) {
		t.Errorf("GridClasses = %v", c.GridClasses())
	}
	grids := &EvidenceGrids{A: c.Cur, Classes: c.GridClasses(), Selected: c.Selected()}
	if grids.Limit() != 5 || grids.MiniClass(0) != "mini selected" || grids.GridRange() != "−5.00 to +5.00" && grids.GridRange() != "-5.00 to +5.00" {
		t.Errorf("grids: limit %v, range %q", grids.Limit(), grids.GridRange())
	}
	c.Sel = 1 // map 1, 4, -2, 5
	top, bottom := (&PatchList{A: c.Cur, Class: c.Selected()}).Extremes(2)
	if len(top) != 2 || top[0].Value != 5 || top[0].Cell != (Cell{I: 1, J: 1, OK: true}) || top[0].Box != (geom.Rect[int]{X0: 8, Y0: 8, X1: 41, Y1: 41}) {
		t.Errorf("top patches %+v", top)
	}
	if len(bottom) != 1 || bottom[0].Value != -2 || bottom[0].Cell != (Cell{I: 1, J: 0, OK: true}) {
		t.Errorf("bottom patches %+v", bottom)
	}
	if got, want := (&Predictions{A: c.Cur}).LogitText(c.Cur, 1), "score +3.00 = mean patch evidence +2.00 + bias +1.00"; got != want {
		t.Errorf("LogitText = %q, want %q", got, want)
	}
	card := &ModelCard{Info: c.Info}
	if got := card.ArchText(); got != "BagNet-33, width ×0.25, 1.0 M parameters" {
		t.Errorf("ArchText = %q", got)
	}
	if got := card.WeightsText(); got != "1.1 MB, int8" {
		t.Errorf("WeightsText = %q", got)
	}
	if got := card.ComputeText(); got != "0.30 GMAC per image" {
		t.Errorf("ComputeText = %q", got)
	}
	if got := card.MetaRows(); !slices.Equal(got, [][2]string{{"Validation accuracy", "81.2%"}, {"Trained on", "Imagenette"}}) {
		t.Errorf("MetaRows = %q", got)
	}
	c.SetHover(Cell{I: 5, J: -1, OK: true})
	if c.Hover != (Cell{I: 1, J: 0, OK: true}) {
		t.Errorf("SetHover did not clamp: %+v", c.Hover)
	}
	if got := (&EvidenceView{A: c.Cur, Hover: c.Hover}).HoverText(); got != "Patch at cell (1,0): pixels 0–32 × 8–40" {
		t.Errorf("HoverText = %q", got)
	}

	// The scramble verdict compares the top class before and after.
	c.Scr = analysis()
	c.Scr.Result.Top = []protocol.Prediction{{Index: 2, Name: "cassette", Prob: 0.5}}
	c.Scr.Result.Logits = []float32{0, 1, 1}
	if v := (&ScrambleCompare{Orig: c.Cur, Scr: c.Scr}).Verdict(); !strings.HasPrefix(v, "Now cassette (50.0%); springer fell from 66.5% to ") {
		t.Errorf("Verdict = %q", v)
	}
	c.Scr.Result.Top[0] = protocol.Prediction{Index: 1, Name: "springer", Prob: 0.4}
	if v := (&ScrambleCompare{Orig: c.Cur, Scr: c.Scr}).Verdict(); !strings.HasPrefix(v, "Still springer: 66.5% before") {
		t.Errorf("Verdict = %q", v)
	}
}

func TestHeatmapTiles(t *testing.T) {
	a := analysis()
	a.Geo.Size = 128
	h := &Heatmap{A: a}
	if h.Tiles() != nil {
		t.Error("tiles drawn on an image that was not scrambled")
	}
	a.Scramble = &protocol.Scramble{Tiling: scramble.Tiling{N: 3, Tile: 42, Off: 1}}
	tiles := h.Tiles()
	if len(tiles) != 9 || tiles[0] != BoxStyle([4]int{1, 1, 43, 43}, 128) || tiles[8] != BoxStyle([4]int{85, 85, 127, 127}, 128) {
		t.Errorf("tiles %q", tiles)
	}
	if h.TabIndex() != nil || h.IDAttr() != nil {
		t.Error("a passive heatmap is focusable or has an id")
	}
}

// Picture keys name the analysis by id: a different analysis at the same
// address (after garbage collection) gets other keys; the same id, at any
// address, the same.
func TestPictureKeys(t *testing.T) {
	a := &Analysis{ID: 7, Maps: map[int][]float32{1: {0.5}}}
	b := *a
	if overlayKey(a, 1, 2, 0.8) != overlayKey(&b, 1, 2, 0.8) || mapKey(a, 1, 2) != mapKey(&b, 1, 2) ||
		patchKey(a, geom.Rect[int]{X1: 3, Y1: 3}) != patchKey(&b, geom.Rect[int]{X1: 3, Y1: 3}) {
		t.Error("the same analysis at another address gets other keys")
	}
	*a = Analysis{ID: 8, Maps: map[int][]float32{1: {0.5}}} // a new analysis where the old one was
	if overlayKey(a, 1, 2, 0.8) == overlayKey(&b, 1, 2, 0.8) || mapKey(a, 1, 2) == mapKey(&b, 1, 2) ||
		patchKey(a, geom.Rect[int]{X1: 3, Y1: 3}) == patchKey(&b, geom.Rect[int]{X1: 3, Y1: 3}) {
		t.Error("a new analysis at an old address reuses the old pictures")
	}
	if overlayKey(a, 2, 2, 0.8) == overlayKey(a, 1, 2, 0.8) {
		t.Error("a missing map and a present one share a key")
	}
}

func TestClassPicker(t *testing.T) {
	var classes []protocol.Class
	logits := make([]float32, 1000)
	for i := range 1000 {
		classes = append(classes, protocol.Class{ID: fmt.Sprintf("n%08d", 1000000+i), Name: fmt.Sprintf("class %d", i)})
		logits[i] = float32(i % 37)
	}
	classes[500].Name = "Great white shark"
	classes[501].Name = "tiger shark"
	a := &Analysis{ID: 3, Result: protocol.Result{Logits: logits}}
	var picked []int
	p := &ClassPicker{A: a, Classes: classes, Selected: 36, OnPick: func(k int) { picked = append(picked, k) }}

	// Empty: the best classes, best first.
	m := p.Matches()
	if len(m) != MaxMatches || m[0].Index != 36 || a.Result.Logits[m[1].Index] > a.Result.Logits[m[0].Index] {
		t.Fatalf("empty query: %+v", m)
	}
	if s := p.Summary(); !strings.Contains(s, "1000") {
		t.Errorf("summary %q", s)
	}
	for _, tt := range []struct {
		q    string
		want []int
	}{
		{"SHARK", []int{501, 500}}, // by name, any case; tiger (logit 20) before great white (19)
		{"n01000501", []int{501}},  // by WordNet id
		{"okapi", nil},
	} {
		p.Query = tt.q
		var got []int
		for _, x := range p.Matches() {
			got = append(got, x.Index)
		}
		if !slices.Equal(got, tt.want) {
			t.Errorf("query %q: %v, want %v", tt.q, got, tt.want)
		}
	}
	if s := p.Summary(); !strings.Contains(s, "No class matches") {
		t.Errorf("summary %q", s)
	}
	p.Query = "class 1"
	if m := p.Matches(); len(m) != MaxMatches || !strings.Contains(p.Summary(), "111 classes match") {
		t.Errorf("query %q: %d shown, summary %q", p.Query, len(m), p.Summary())
	}
	p.Pick(m[0].Index)
	if len(picked) != 1 || picked[0] != m[0].Index {
		t.Errorf("picked %v", picked)
	}
	if s := p.Matches()[0].Score; !strings.Contains(s, "#") {
		t.Errorf("score %q", s)
	}
}

// The exports: the JSON of `bagnet classify -json` with "image" set, and
// the overlay the page shows with heatmap.Legend below it.
func TestExports(t *testing.T) {
	c := &Root{Info: &protocol.Info{Classes: names}, Cur: analysis(), Sel: -1, Opacity: 0.8}
	c.Cur.Label = "my photo.jpg"
	b, err := c.ExportResult()
	if err != nil {
		t.Fatal(err)
	}
	var r protocol.Result
	if err := json.Unmarshal(b, &r); err != nil || r.Image != "my photo.jpg" || !slices.Equal(r.Logits, c.Cur.Result.Logits) || len(r.Top) != 3 {
		t.Errorf("JSON %s: %v", b, err)
	}
	rgba, w, h, err := c.ExportPicture()
	if err != nil {
		t.Fatal(err)
	}
	scale := viz.OverlayScale(48, overlayMinSide)
	over, _ := viz.Overlay(c.Cur.RGB, c.Cur.Geo, c.Cur.Maps[1], c.SelLimit(), 0.8, scale)
	if w != 48*scale || h != w+heatmap.LegendHeight || len(rgba) != w*h*4 || !slices.Equal(rgba[:len(over)], over) {
		t.Errorf("picture %dx%d (%d bytes): not the overlay (%d px) over a legend", w, h, len(rgba), 48*scale)
	}
	if got := c.exportName("evidence-English springer", ".png"); got != "my_photo-evidence-English_springer.png" {
		t.Errorf("file name %q", got)
	}
	c.Cur.Maps = map[int][]float32{}
	if _, _, _, err := c.ExportPicture(); err == nil {
		t.Error("a picture without its evidence map")
	}
}

func TestOcclusionPanel(t *testing.T) {
	base := analysis()
	edit := analysis()
	edit.ID = 4
	edit.Result.Logits = []float32{1, 2.5, 2}
	edit.Maps[1] = []float32{1, 4, -2, 1} // cell (1,1) recomputed and changed
	edit.Occlusion = &protocol.Occlusion{Of: 3, Rect: [4]int{30, 30, 48, 48}, Rows: [2]int{1, 2}, Cols: [2]int{1, 2}, Recomputed: 1, Workers: 2, Cells: 4}
	p := &OcclusionPanel{Base: base, Edits: []*Analysis{edit}, Class: 1, ClassName: func(k int) string { return names[k].Name }}
	if p.Shown() != edit {
		t.Error("Shown is not the last edit")
	}
	rows := p.Rows()
	if len(rows) != 3 || rows[0].Name != "springer" || rows[0].Delta != "−0.50" && rows[0].Delta != "-0.50" || rows[0].DeltaClass != "num neg" {
		t.Errorf("rows %+v", rows)
	}
	if eq, tot := p.Unchanged(); eq != 3 || tot != 3 {
		t.Errorf("unchanged %d of %d, want 3 of 3", eq, tot)
	}
	edit.Maps[1][0] = 9 // a cell outside the block changed: the check says so
	if eq, tot := p.Unchanged(); eq != 2 || tot != 3 {
		t.Errorf("unchanged %d of %d, want 2 of 3", eq, tot)
	}
	if s := p.EditText(); !strings.Contains(s, "Recomputed 1 of 4 patches") || !strings.Contains(s, "on 2 workers") || !strings.Contains(s, "2 of 3 unchanged") {
		t.Errorf("EditText %q", s)
	}
	p.Edits = nil
	if p.Shown() != base || !strings.Contains(p.EditText(), "No edits") {
		t.Error("without edits")
	}
	if r := PatchRect(2, 100, 33, 128); r != [4]int{0, 84, 33, 117} {
		t.Errorf("PatchRect %v", r)
	}
	if r := dragRect(50, 60, 10, 20, 33, 128); r != [4]int{10, 20, 50, 60} {
		t.Errorf("dragRect %v", r)
	}
}

// The page's own words for the fixes of issue 16: cells named as the CLI
// names them, the storage figures from one look, a model file's failure
// with the model still in use, a small model's answer to a search with no
// match, and the gallery's samples outside the model's classes.
func TestPageWords(t *testing.T) {
	tests := []struct{ got, want string }{
		{CellName(6, 4), "cell (6,4)"},
		{CellName(0, 11), "cell (0,11)"},
		{usageText(0, -1, 0), "Checking…"},
		{usageText(0, 0, 5e9), "Nothing is stored for offline use."},
		{usageText(0, 13.4e6, 5e9), "Nothing is stored for offline use."}, // files decide: no stale bytes
		{usageText(1, 1_110_368, 0), "1 file, 1.1 MB stored for offline use."},
		{usageText(15, 13.4e6, 5e9), "15 files, 13.4 MB stored for offline use (this browser allows the site 5.00 GB)."},
		{clearedText(1, 15, 13.4e6), "Cleared 1 cache (15 files, 13.4 MB). The page keeps working while online; the next visit stores it for offline use again."},
		{clearedText(2, 1, 12), "Cleared 2 caches (1 file, 12 B). The page keeps working while online; the next visit stores it for offline use again."},
		{modelFailText("bad.safetensors is not a usable model file: it is cut short.", "BagNet-33 Imagenette"),
			"bad.safetensors is not a usable model file: it is cut short. The previous model (BagNet-33 Imagenette) is still in use."},
		{modelFailText("  ", "m"), "The model file could not be loaded. The previous model (m) is still in use."},
	}
	for i, tt := range tests {
		if tt.got != tt.want {
			t.Errorf("case %d: got %q, want %q", i, tt.got, tt.want)
		}
	}

	ten := []protocol.Class{{ID: "n01440764", Name: "tench"}, {ID: "n02102040", Name: "English springer"}}
	p := &ClassPicker{Classes: ten, Query: "cat"}
	if s := p.Summary(); s != `No class matches "cat": this model knows only these 2 classes: tench, English springer.` {
		t.Errorf("summary %q", s)
	}

	in := &ImageInput{Classes: ten}
	for _, tt := range []struct {
		s   Sample
		out bool
	}{
		{Sample{Name: "tench", WNID: "n01440764"}, false},
		{Sample{Name: "tabby", WNID: "n02123045"}, true},
		{Sample{Name: "my cat"}, false}, // no id: nothing to say
	} {
		if got := in.OutOfSet(tt.s); got != tt.out {
			t.Errorf("OutOfSet(%+v) = %v", tt.s, got)
		}
	}
	noIDs := &ImageInput{Classes: []protocol.Class{{Name: "class 0"}, {Name: "class 1"}}}
	if noIDs.OutOfSet(Sample{Name: "tabby", WNID: "n02123045"}) {
		t.Errorf("a model without class ids marks samples")
	}
}
