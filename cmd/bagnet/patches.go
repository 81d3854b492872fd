package main

import (
	"bytes"
	"container/heap"
	"flag"
	"fmt"
	"github.com/bagnetweb/bagnet/geom"
	"image"
	"image/png"
	"io"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"sync"

	"github.com/bagnetweb/bagnet/engine"
	"github.com/bagnetweb/bagnet/heatmap"
	"github.com/bagnetweb/bagnet/preprocess"
)

var patchesCmd = &command{
	name:    "patches",
	summary: "find the patches with the most evidence for a class across a folder of images (the paper's figure): for it, distractors from other classes, and against it",
	usage:   "[-weights FILE] -class NAME|INDEX|WNID [-n N] [-per-image K] [-tile PX] [-workers N] [-limit N] [-o OUT.png] [-json] DIR",
	flags: func(fs *flag.FlagSet) func(*env, []string) error {
		o := &patchesOpts{}
		o.weights = weightsFlag(fs)
		fs.StringVar(&o.class, "class", "", "the class: index, WordNet id or name (required)")
		fs.IntVar(&o.n, "n", 16, "patches in each list")
		fs.IntVar(&o.perImage, "per-image", 1, "at most this many patches of one image in each list (neighbouring patches overlap and look alike)")
		fs.IntVar(&o.tile, "tile", 96, "size in pixels of each patch in the PNG")
		fs.IntVar(&o.workers, "workers", runtime.NumCPU(), "images processed in parallel")
		fs.IntVar(&o.limit, "limit", 0, "at most this many images per class folder, evenly spaced over the sorted file list (0: all)")
		fs.StringVar(&o.out, "o", "", "output PNG (default patches.png; with -json, only when given)")
		fs.BoolVar(&o.json, "json", false, `print one JSON object: {"model","class":{"index","id","name"},"images","for":[{"image","label","cell":[i,j],"box":[x0,y0,x1,y1],"evidence"}],"distractors":[..],"against":[..]}`)
		return o.run
	},
}

type patchesOpts struct {
	weights  *string
	class    string
	n        int
	perImage int
	tile     int
	workers  int
	limit    int
	out      string
	json     bool
}

// patchHit is one patch in one of the lists, and the JSON of it.
type patchHit struct {
	Image    string     `json:"image"`
	Label    string     `json:"label,omitempty"` // the image's class folder (WordNet id); absent for plain images
	Cell     [2]int     `json:"cell"`            // row i, column j of the evidence map
	Box      [4]float64 `json:"box"`             // the receptive field in the image's pixels: x0, y0, x1, y1 (half-open, may reach past the edges)
	Evidence float32    `json:"evidence"`        // the patch's contribution to the class logit (logit = mean over patches + bias)

	crop  *heatmap.PatchTile
	label int // index into the model's classes, -1 for plain images
}

// bestHits keeps the n hits with the largest sign*evidence (ties: the
// smaller image path, then the smaller cell), so memory stays bounded and
// the result does not depend on the order the workers finish in.
type bestHits struct {
	n    int
	sign float32
	h    []*patchHit // a heap whose root is the worst hit kept
}

// better orders hits best first.
func (b *bestHits) better(x, y *patchHit) bool {
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

func (b *bestHits) Len() int           { return len(b.h) }
func (b *bestHits) Less(i, j int) bool { return b.better(b.h[j], b.h[i]) }
func (b *bestHits) Swap(i, j int)      { b.h[i], b.h[j] = b.h[j], b.h[i] }
func (b *bestHits) Push(x any)         { b.h = append(b.h, x.(*patchHit)) }
func (b *bestHits) Pop() any {
	x := b.h[len(b.h)-1]
	b.h = b.h[:len(b.h)-1]
	return x
}

// wants reports whether hit would be kept.
func (b *bestHits) wants(hit *patchHit) bool {
	return b.n > 0 && (len(b.h) < b.n || b.better(hit, b.h[0]))
}

// offer keeps hit if it is among the n best so far.
func (b *bestHits) offer(hit *patchHit) {
	if !b.wants(hit) {
		return
	}
	if len(b.h) < b.n {
		heap.Push(b, hit)
		return
	}
	b.h[0] = hit
	heap.Fix(b, 0)
}

// sorted returns the hits kept, best first.
func (b *bestHits) sorted() []*patchHit {
	out := append([]*patchHit(nil), b.h...)
	sort.Slice(out, func(i, j int) bool { return b.better(out[i], out[j]) })
	return out
}

// patchesReport is what -json prints.
type patchesReport struct {
	Model       string      `json:"model"`
	Class       classRef    `json:"class"`
	Images      int         `json:"images"` // images scanned (unreadable ones excluded)
	Errors      int         `json:"errors"`
	Labelled    bool        `json:"labelled"` // DIR has class folders
	For         []*patchHit `json:"for"`
	Distractors []*patchHit `json:"distractors"`
	Against     []*patchHit `json:"against"`
}

type classRef struct {
	Index int    `json:"index"`
	ID    string `json:"id"`
	Name  string `json:"name"`
}

// patchImage is one image to scan.
type patchImage struct {
	path  string
	label int // model class index, -1 for plain images
	err   error
}

func (o *patchesOpts) run(e *env, args []string) error {
	if len(args) != 1 {
		return usagef("want exactly one directory, got %d arguments", len(args))
	}
	if o.class == "" {
		return usagef("missing -class NAME|INDEX|WNID")
	}
	if o.n < 1 || o.n > 1000 {
		return usagef("-n %d out of range [1, 1000]", o.n)
	}
	if o.perImage < 1 {
		return usagef("-per-image %d: want at least 1", o.perImage)
	}
	if o.tile < 16 || o.tile > 512 {
		return usagef("-tile %d out of range [16, 512]", o.tile)
	}
	if o.workers < 1 || o.workers > 256 {
		return usagef("-workers %d out of range [1, 256]", o.workers)
	}
	if o.limit < 0 {
		return usagef("-limit %d: want 0 (all) or more", o.limit)
	}
	out := o.out
	if out == "" && !o.json {
		out = "patches.png"
	}
	dir := args[0]
	eng, wpath, err := loadEngineAt(*o.weights)
	if err != nil {
		return err
	}
	c, err := eng.ClassIndex(o.class)
	if err != nil {
		return fileErr(wpath, err)
	}
	imgs, labelled, err := patchImages(dir, eng, wpath, o.limit)
	if err != nil {
		return err
	}
	if len(imgs) == 0 {
		return fileErrf(dir, "no images found (looked for %s files)", extList())
	}
	cls := eng.Classes[c]
	if labelled {
		n := 0
		for _, im := range imgs {
			if im.label == c {
				n++
			}
		}
		if n == 0 {
			fmt.Fprintf(e.stderr, "bagnet: note: %s has no folder %s (%s): the lists of evidence for and against it are empty\n", dir, cls.ID, cls.Name)
		}
	}

	lists := [3]*bestHits{{n: o.n, sign: 1}, {n: o.n, sign: 1}, {n: o.n, sign: -1}} // for, distractors, against
	if !labelled {
		lists[1].n = 0
	}
	var mu sync.Mutex
	scan := func(im *patchImage) {
		defer func() {
			if r := recover(); r != nil {
				im.err = fmt.Errorf("internal error: %v", r)
			}
		}()
		b, err := preprocess.ReadFile(im.path)
		if err != nil {
			im.err = err
			return
		}
		src, _, err := preprocess.Decode(b)
		if err != nil {
			im.err = err
			return
		}
		a, err := eng.ClassifyImage(src, 1)
		if err != nil {
			im.err = err
			return
		}
		ev, err := a.Evidence(c)
		if err != nil {
			im.err = err
			return
		}
		targets := []int{2} // plain images: for and against
		switch {
		case !labelled:
			targets = []int{0, 2}
		case im.label == c:
			targets = []int{0, 2}
		default:
			targets = []int{1}
		}
		mu.Lock()
		defer mu.Unlock()
		for _, t := range targets {
			l := lists[t]
			for _, k := range topCells(ev, l.sign, o.perImage) {
				i, j := k/a.Map.W, k%a.Map.W
				hit := &patchHit{Image: im.path, Cell: [2]int{i, j}, Evidence: ev[k], label: im.label}
				if !l.wants(hit) {
					break // the rest of this image's cells are worse
				}
				_, box := a.CellBoxes(i, j)
				hit.Box = [4]float64{box.X0, box.Y0, box.X1, box.Y1}
				if im.label >= 0 {
					hit.Label = eng.Classes[im.label].ID
				}
				if out != "" {
					hit.crop = &heatmap.PatchTile{
						Img:      heatmap.Crop(src, geom.Rect[float64]{X0: box.X0, Y0: box.Y0, X1: box.X1, Y1: box.Y1}, o.tile, o.tile),
						Evidence: ev[k],
					}
				}
				l.offer(hit)
			}
		}
	}

	forEach(e.stderr, "scanning", len(imgs), o.workers, func(i int) { scan(imgs[i]) })

	rep := &patchesReport{
		Model: eng.Label(), Class: classRef{c, cls.ID, cls.Name}, Labelled: labelled,
		For: lists[0].sorted(), Distractors: lists[1].sorted(), Against: lists[2].sorted(),
	}
	for _, im := range imgs {
		if im.err != nil {
			rep.Errors++
			fmt.Fprintf(e.stderr, "bagnet: %s\n", oneLine(fileErr(im.path, im.err).Error()))
		} else {
			rep.Images++
		}
	}
	if rep.Images == 0 {
		return errReported
	}
	if out != "" {
		fig := patchFigure(rep, eng, dir, o)
		var buf bytes.Buffer
		if err := png.Encode(&buf, fig); err != nil {
			return fileErr(out, err)
		}
		if err := writeFile(out, buf.Bytes()); err != nil {
			return err
		}
		if !o.json {
			fmt.Fprintf(e.stdout, "wrote %s (%dx%d)\n", out, fig.Rect.Dx(), fig.Rect.Dy())
		}
	}
	return output(e, o.json, rep, func() { rep.print(e.stdout, eng, dir) }, rep.Errors)
}

// patchImages lists the images of dir: with their class when dir holds
// class folders named by WordNet ids of the model's classes (the layout
// eval reads), else every image under dir, unlabelled.
func patchImages(dir string, eng *engine.Engine, wpath string, limit int) ([]*patchImage, bool, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, false, fileErr(dir, err)
	}
	labelled := false
	for _, ent := range entries {
		if _, err := eng.ClassIndex(ent.Name()); err == nil && len(ent.Name()) > 1 && ent.Name()[0] == 'n' {
			if st, err := os.Stat(filepath.Join(dir, ent.Name())); err == nil && st.IsDir() {
				labelled = true
				break
			}
		}
	}
	var out []*patchImage
	if labelled {
		classes, err := evalClasses(dir, eng, wpath, limit)
		if err != nil {
			return nil, false, err
		}
		for _, cl := range classes {
			for _, p := range cl.images {
				out = append(out, &patchImage{path: p, label: cl.index})
			}
		}
		return out, true, nil
	}
	paths, err := findImages(dir)
	if err != nil {
		return nil, false, err
	}
	for _, p := range spread(paths, limit) {
		out = append(out, &patchImage{path: p, label: -1})
	}
	return out, false, nil
}

// topCells returns the indices of the k cells of ev with the largest
// sign*value, best first (ties: the lower index).
func topCells(ev []float32, sign float32, k int) []int {
	idx := make([]int, len(ev))
	for i := range idx {
		idx[i] = i
	}
	sort.SliceStable(idx, func(a, b int) bool { return sign*ev[idx[a]] > sign*ev[idx[b]] })
	return idx[:min(k, len(idx))]
}

// patchFigure draws the three lists.
func patchFigure(rep *patchesReport, eng *engine.Engine, dir string, o *patchesOpts) *image.RGBA {
	name := rep.Class.Name
	var absMax float32
	lo, hi := float32(math.Inf(1)), float32(math.Inf(-1))
	section := func(title string, hits []*patchHit, showLabel bool) heatmap.PatchSection {
		s := heatmap.PatchSection{Title: title}
		for _, h := range hits {
			absMax = max(absMax, float32(math.Abs(float64(h.Evidence))))
			lo, hi = min(lo, h.Evidence), max(hi, h.Evidence)
			t := *h.crop
			t.Lines = []string{fmt.Sprintf("%+.3g (%d,%d)", h.Evidence, h.Cell[0], h.Cell[1]), filepath.Base(h.Image)}
			if showLabel && h.label >= 0 {
				t.Lines = append(t.Lines, eng.Classes[h.label].Name)
			}
			s.Tiles = append(s.Tiles, t)
		}
		return s
	}
	where := fmt.Sprintf("%s images", name)
	if !rep.Labelled {
		where = "all images"
	}
	per := ""
	if o.perImage == 1 {
		per = ", one per image"
	} else {
		per = fmt.Sprintf(", at most %d per image", o.perImage)
	}
	sections := []heatmap.PatchSection{
		section(fmt.Sprintf("For %s: the %d patches with the most evidence in %s%s", name, len(rep.For), where, per), rep.For, false),
	}
	if rep.Labelled {
		sections = append(sections, section(fmt.Sprintf("Distractors: the %d patches with the most evidence for %s in images of other classes", len(rep.Distractors), name), rep.Distractors, true))
	}
	sections = append(sections, section(fmt.Sprintf("Against %s: the %d most negative patches in %s%s", name, len(rep.Against), where, per), rep.Against, false))
	if absMax == 0 {
		lo, hi = 0, 0
	}
	title := fmt.Sprintf("%s - class %s (%s) - %d images in %s", rep.Model, name, rep.Class.ID, rep.Images, filepath.Base(filepath.Clean(dir)))
	perRow := min(8, o.n)
	return heatmap.Patches(title, sections, o.tile, perRow, absMax, lo, hi)
}

// print writes the lists as text.
func (r *patchesReport) print(w io.Writer, eng *engine.Engine, dir string) {
	fmt.Fprintf(w, "model  %s\nclass  %s (%s), index %d\ndata   %s: %d images\n", r.Model, r.Class.Name, r.Class.ID, r.Class.Index, dir, r.Images)
	list := func(title string, hits []*patchHit) {
		fmt.Fprintf(w, "\n%s\n", title)
		if len(hits) == 0 {
			fmt.Fprintln(w, "  (none)")
		}
		for k, h := range hits {
			lab := ""
			if h.label >= 0 {
				lab = "  " + eng.Classes[h.label].Name
			}
			fmt.Fprintf(w, "%3d  %+8.3f  %s  cell (%d,%d)  box [%.0f %.0f %.0f %.0f]%s\n", k+1, h.Evidence, h.Image, h.Cell[0], h.Cell[1], h.Box[0], h.Box[1], h.Box[2], h.Box[3], lab)
		}
	}
	list("for", r.For)
	if r.Labelled {
		list("distractors (other classes)", r.Distractors)
	}
	list("against", r.Against)
}
