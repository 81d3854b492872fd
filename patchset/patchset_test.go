package patchset

import (
	"math/rand"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/bagnetweb/bagnet/protocol"
)

// Best keeps exactly the n best of any sequence of offers.
func TestBest(t *testing.T) {
	r := rand.New(rand.NewSource(1))
	for _, sign := range []float32{1, -1} {
		b := NewBest(7, sign)
		var all []*Hit
		for k := 0; k < 500; k++ {
			h := &Hit{Image: string(rune('a' + r.Intn(20))), Cell: [2]int{r.Intn(3), r.Intn(3)}, Evidence: float32(r.Intn(40) - 20)}
			all = append(all, h)
			b.Offer(h)
		}
		sort.SliceStable(all, func(i, j int) bool { return b.Better(all[i], all[j]) })
		got := b.Sorted()
		if len(got) != 7 {
			t.Fatalf("sign %v: kept %d, want 7", sign, len(got))
		}
		for k := range got {
			if b.Better(got[k], all[k]) || b.Better(all[k], got[k]) {
				t.Fatalf("sign %v: kept[%d] = %+v, want %+v", sign, k, *got[k], *all[k])
			}
		}
	}
}

// The page's way (Wire in the worker, Collection.Add in the page, every
// class at once) gives each class the lists of a brute-force reference
// that keeps every cell of every image: at most perImage patches of an
// image in a list, the n best, ties by image then cell.
func TestCollectionMatchesBruteForce(t *testing.T) {
	const classes, h, w, n = 4, 3, 5, 6
	r := rand.New(rand.NewSource(2))
	g := Geometry{MapW: w, Stride: 8, Patch: 33}
	for _, labelled := range []bool{true, false} {
		for _, perImage := range []int{1, 2} {
			type cell struct {
				img   *Image
				class int
				k     int
				ev    float32
			}
			col := NewCollection(classes, n, perImage, labelled)
			var all []cell
			for m := 0; m < 12; m++ {
				im := &Image{Path: string(rune('a'+m)) + ".jpg", Label: -1}
				im.Transform.SrcW, im.Transform.SrcH, im.Transform.ResizedW, im.Transform.ResizedH = 200, 150, 64, 64
				if labelled {
					im.Label = m % classes
					im.LabelID = "n0" + string(rune('0'+im.Label))
				}
				maps := make([][]float32, classes)
				for c := range maps {
					maps[c] = make([]float32, h*w)
					for k := range maps[c] {
						maps[c][k] = float32(r.Intn(9) - 4) // many ties
						all = append(all, cell{im, c, k, maps[c][k]})
					}
				}
				wire, err := Wire(classes, perImage, func(c int) ([]float32, error) { return maps[c], nil })
				if err != nil {
					t.Fatal(err)
				}
				if err := col.Add(im, g, h*w, wire); err != nil {
					t.Fatal(err)
				}
			}
			for c := 0; c < classes; c++ {
				got := col.Lists(c).Sorted()
				for list, sign := range []float32{1, 1, -1} {
					ref := NewBest(1<<30, sign)
					for _, x := range all {
						own := !labelled || x.img.Label == c
						if x.class != c || own != (list != 1) {
							continue
						}
						ref.Offer(&Hit{Image: x.img.Path, Cell: [2]int{x.k / w, x.k % w}, Evidence: x.ev, Box: g.Box(x.img, x.k)})
					}
					var want []*Hit
					per := map[string]int{}
					for _, hh := range ref.Sorted() {
						if per[hh.Image] < perImage && len(want) < n && (labelled || list != 1) {
							per[hh.Image]++
							want = append(want, hh)
						}
					}
					if len(got[list]) != len(want) {
						t.Fatalf("labelled %v, per image %d, class %d, list %d: %d hits, want %d", labelled, perImage, c, list, len(got[list]), len(want))
					}
					for k := range want {
						gh, wh := got[list][k], want[k]
						if gh.Image != wh.Image || gh.Cell != wh.Cell || gh.Evidence != wh.Evidence || gh.Box != wh.Box {
							t.Errorf("labelled %v, per image %d, class %d, list %d, [%d] = %+v, want %+v", labelled, perImage, c, list, k, *gh, *wh)
						}
					}
				}
			}
		}
	}
}

// Candidates that do not fit the model are an error naming the image, not
// a panic or a silent wrong list.
func TestCollectionBadCandidates(t *testing.T) {
	col := NewCollection(2, 4, 1, true)
	im := &Image{Path: "x.jpg", Label: 0}
	g := Geometry{MapW: 2, Stride: 8, Patch: 33}
	good, _ := Wire(2, 1, func(int) ([]float32, error) { return []float32{1, 2, 3, 4}, nil })
	for _, tt := range []struct {
		name string
		w    *protocol.PatchCandidates
	}{
		{"none", nil},
		{"other k", &protocol.PatchCandidates{K: 2, Cells: good.Cells, Evidence: good.Evidence}},
		{"short", &protocol.PatchCandidates{K: 1, Cells: good.Cells[:3], Evidence: good.Evidence[:3]}},
		{"cell out of range", &protocol.PatchCandidates{K: 1, Cells: []int{0, 1, 2, 9}, Evidence: good.Evidence}},
	} {
		if err := col.Add(im, g, 4, tt.w); err == nil || !strings.Contains(err.Error(), "x.jpg") {
			t.Errorf("%s: error %v, want one naming x.jpg", tt.name, err)
		}
	}
	if err := col.Add(im, g, 4, good); err != nil {
		t.Fatal(err)
	}
	if l := col.Lists(0).Sorted(); len(l[0]) != 1 || l[0][0].Cell != [2]int{1, 1} || l[2][0].Cell != [2]int{0, 0} {
		t.Errorf("lists %+v", l)
	}
}

// TopCells is the first k of a stable sort by sign*value, for any k.
func TestTopCells(t *testing.T) {
	r := rand.New(rand.NewSource(3))
	for trial := 0; trial < 200; trial++ {
		ev := make([]float32, 1+r.Intn(40))
		for i := range ev {
			ev[i] = float32(r.Intn(7) - 3)
		}
		for _, sign := range []float32{1, -1} {
			idx := make([]int, len(ev))
			for i := range idx {
				idx[i] = i
			}
			sort.SliceStable(idx, func(a, b int) bool { return sign*ev[idx[a]] > sign*ev[idx[b]] })
			for _, k := range []int{0, 1, 2, 5, len(ev), len(ev) + 3} {
				got, want := TopCells(ev, sign, k), idx[:min(k, len(ev))]
				if !slices.Equal(got, want) {
					t.Fatalf("TopCells(%v, %v, %d) = %v, want %v", ev, sign, k, got, want)
				}
			}
		}
	}
}
