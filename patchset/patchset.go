// Package patchset selects the paper's most evidential patches of a class
// across a collection of images: "for" (the patches with the most evidence
// for the class in images of that class), "distractors" (the most evidence
// for it in images of other classes) and "against" (the most negative
// patches in images of the class). In a folder without class folders every
// image counts as the class's, and there are no distractors.
//
// 'bagnet patches' and the page (its folder batch, js/wasm) both use it, so
// the page's lists are the command's, byte for byte. Memory stays bounded
// for any number of images: an image gives only its few candidate cells per
// class (Candidates: the best K cells for and against, not its evidence
// map), and each list keeps only its N best hits (Best). The lists do not
// depend on the order the images come in.
//
// The package touches neither the file system nor JavaScript.
package patchset

import (
	"container/heap"
	"encoding/json"
	"fmt"
	"image"
	"sort"

	"github.com/bagnetweb/bagnet/geom"
	"github.com/bagnetweb/bagnet/protocol"
)

// The options of 'bagnet patches' by default, which the page uses.
const (
	DefaultN        = 16 // patches in each list
	DefaultPerImage = 1  // at most this many patches of one image in a list
	DefaultTile     = 96 // the side of a patch's picture in the figure, pixels
)

// Hit is one patch in one of the lists, and its JSON.
type Hit struct {
	Image    string     `json:"image"`
	Label    string     `json:"label,omitempty"` // the image's class folder (WordNet id); absent for plain images
	Cell     [2]int     `json:"cell"`            // row i, column j of the evidence map
	Box      [4]float64 `json:"box"`             // the receptive field in the image's pixels: x0, y0, x1, y1 (half-open, may reach past the edges)
	Evidence float32    `json:"evidence"`        // the patch's contribution to the class logit (logit = mean over patches + bias)

	LabelName string      `json:"-"` // the name of the image's class ("" for plain images)
	Tile      image.Image `json:"-"` // the patch's picture for Figure (nil until the caller sets it)
}

// Best keeps the n hits with the largest sign*evidence (ties: the smaller
// image path, then the smaller cell), so memory stays bounded and the
// result does not depend on the order of the offers.
type Best struct {
	n    int
	sign float32
	h    []*Hit // a heap whose root is the worst hit kept
}

// NewBest keeps the n best hits by sign*evidence (sign 1 or -1).
func NewBest(n int, sign float32) *Best { return &Best{n: n, sign: sign} }

// Better orders hits best first.
func (b *Best) Better(x, y *Hit) bool {
	if vx, vy := b.sign*x.Evidence, b.sign*y.Evidence; vx != vy {
		return vx > vy
	}
	if x.Image != y.Image {
		return x.Image < y.Image
	}
	if x.Cell[0] != y.Cell[0] {
		return x.Cell[0] < y.Cell[0]
	}
	return x.Cell[1] < y.Cell[1]
}

// heap.Interface, on the hits kept (not for callers).
func (b *Best) Len() int           { return len(b.h) }
func (b *Best) Less(i, j int) bool { return b.Better(b.h[j], b.h[i]) }
func (b *Best) Swap(i, j int)      { b.h[i], b.h[j] = b.h[j], b.h[i] }
func (b *Best) Push(x any)         { b.h = append(b.h, x.(*Hit)) }
func (b *Best) Pop() any {
	x := b.h[len(b.h)-1]
	b.h = b.h[:len(b.h)-1]
	return x
}

// Wants reports whether hit would be kept.
func (b *Best) Wants(hit *Hit) bool {
	return b.n > 0 && (len(b.h) < b.n || b.Better(hit, b.h[0]))
}

// Offer keeps hit if it is among the n best so far.
func (b *Best) Offer(hit *Hit) {
	if !b.Wants(hit) {
		return
	}
	if len(b.h) < b.n {
		heap.Push(b, hit)
		return
	}
	b.h[0] = hit
	heap.Fix(b, 0)
}

// Sorted returns the hits kept, best first.
func (b *Best) Sorted() []*Hit {
	out := append([]*Hit(nil), b.h...)
	sort.Slice(out, func(i, j int) bool { return b.Better(out[i], out[j]) })
	return out
}

// TopCells returns the indices of the k cells of ev with the largest
// sign*value, best first (ties: the lower index): the first k of a stable
// sort, found in one pass that keeps k cells (an image has hundreds of
// cells and a model up to a thousand classes).
func TopCells(ev []float32, sign float32, k int) []int {
	k = max(0, min(k, len(ev)))
	top := make([]int, 0, k)
	if k == 0 {
		return top
	}
	for i, v := range ev {
		v *= sign
		if len(top) == k && v <= sign*ev[top[k-1]] {
			continue // not better than the worst kept (ties: the lower index stays)
		}
		at := len(top) // after every kept cell at least as good
		for at > 0 && sign*ev[top[at-1]] < v {
			at--
		}
		if len(top) < k {
			top = append(top, 0)
		}
		copy(top[at+1:], top[at:len(top)-1])
		top[at] = i
	}
	return top
}

// Cand is a candidate cell of one image's evidence map for one class.
type Cand struct {
	Cell     int // row-major index into the map
	Evidence float32
}

// Candidates are an image's candidates for one class's lists: pos its k
// cells with the most evidence for the class, neg its k most negative,
// each best first (TopCells). No other cell of the image can enter a list
// that keeps at most k patches of one image.
func Candidates(ev []float32, k int) (pos, neg []Cand) {
	pick := func(sign float32) []Cand {
		var out []Cand
		for _, i := range TopCells(ev, sign, k) {
			out = append(out, Cand{i, ev[i]})
		}
		return out
	}
	return pick(1), pick(-1)
}

// Geometry is what maps a cell of the evidence map onto the image.
type Geometry struct {
	MapW   int // the map's columns
	Stride int // pixels between neighbouring cells' patches, in the model input
	Patch  int // a cell's patch side, in the model input
}

// Image is one image whose candidates are offered.
type Image struct {
	Path      string
	Label     int    // its class (model index), -1 when unlabelled
	LabelID   string // that class's WordNet id, "" when unlabelled
	LabelName string
	Transform protocol.Transform // from the image to the model input
}

// Box is cell k's receptive field in im's pixels (protocol.Transform.ToSourceF
// of geom.Cell): x0, y0, x1, y1.
func (g Geometry) Box(im *Image, k int) [4]float64 {
	i, j := k/g.MapW, k%g.MapW
	c := geom.Cell(i, j, g.Stride, g.Patch)
	x0, y0, x1, y1 := im.Transform.ToSourceF(float64(c.X0), float64(c.Y0), float64(c.X1), float64(c.Y1))
	return [4]float64{x0, y0, x1, y1}
}

// Lists are one class's three lists.
type Lists struct {
	Class    int  // the class (model index)
	Labelled bool // the images have class labels (else: no distractors)
	// For, Distractors and Against, in that order (Distractors keeps
	// nothing when unlabelled).
	Lists [3]*Best
}

// NewLists are class's empty lists of n patches each.
func NewLists(class, n int, labelled bool) *Lists {
	l := &Lists{Class: class, Labelled: labelled, Lists: [3]*Best{NewBest(n, 1), NewBest(n, 1), NewBest(n, -1)}}
	if !labelled {
		l.Lists[1].n = 0
	}
	return l
}

// Offer offers im's candidates for the class (Candidates with k the most
// patches of one image in a list): pos to "for" when im is of the class
// (or unlabelled), else to "distractors"; neg to "against" when im is of
// the class. Before a hit is kept, keep (when not nil) is called with it,
// its Box set: the caller can attach its Tile.
func (l *Lists) Offer(im *Image, g Geometry, pos, neg []Cand, keep func(*Hit)) {
	own := !l.Labelled || im.Label == l.Class
	offer := func(b *Best, cands []Cand) {
		for _, c := range cands {
			hit := &Hit{Image: im.Path, Cell: [2]int{c.Cell / g.MapW, c.Cell % g.MapW}, Evidence: c.Evidence}
			if !b.Wants(hit) {
				break // the rest of this image's cells are worse
			}
			hit.Box = g.Box(im, c.Cell)
			if im.Label >= 0 {
				hit.Label, hit.LabelName = im.LabelID, im.LabelName
			}
			if keep != nil {
				keep(hit)
			}
			b.Offer(hit)
		}
	}
	if own {
		offer(l.Lists[0], pos)
		offer(l.Lists[2], neg)
	} else {
		offer(l.Lists[1], pos)
	}
}

// Sorted are the three lists' hits, best first.
func (l *Lists) Sorted() [3][]*Hit {
	var out [3][]*Hit
	for t, b := range l.Lists {
		out[t] = b.Sorted()
		if out[t] == nil {
			out[t] = []*Hit{}
		}
	}
	return out
}

// ClassRef names a class in a Report.
type ClassRef struct {
	Index int    `json:"index"`
	ID    string `json:"id"`
	Name  string `json:"name"`
}

// Report is the lists of one class over a collection: what 'bagnet
// patches -json' prints.
type Report struct {
	Model       string   `json:"model"`
	Class       ClassRef `json:"class"`
	Images      int      `json:"images"` // images scanned (unreadable ones excluded)
	Errors      int      `json:"errors"`
	Labelled    bool     `json:"labelled"` // the folder has class folders
	For         []*Hit   `json:"for"`
	Distractors []*Hit   `json:"distractors"`
	Against     []*Hit   `json:"against"`
}

// SetLists stores l's hits in the report.
func (r *Report) SetLists(l [3][]*Hit) { r.For, r.Distractors, r.Against = l[0], l[1], l[2] }

// Lists are the report's three lists.
func (r *Report) Lists() [3][]*Hit { return [3][]*Hit{r.For, r.Distractors, r.Against} }

// JSON is the report as 'bagnet patches -json' prints it: one line.
func (r *Report) JSON() ([]byte, error) {
	b, err := json.Marshal(r)
	if err != nil {
		return nil, fmt.Errorf("encoding the report: %v", err)
	}
	return append(b, '\n'), nil
}
