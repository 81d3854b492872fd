package main

import (
	"bytes"
	"container/heap"
	"flag"
	"fmt"
	"image"
	"image/png"
	"io"
	"math"
	"os"
	"path/filepath"
	"sort"
	"sync"

	"github.com/bagnetweb/bagnet/engine"
	"github.com/bagnetweb/bagnet/heatmap"
	"github.com/bagnetweb/bagnet/preprocess"
)

var patchesCmd = &command{name: "patches", opts: func() options { return new(patchesOpts) },
	summary: "find the patches with the most evidence for a class across a folder of images (the paper's figure): for it, distractors from other classes, and against it",
	usage:   "[-weights FILE] -class NAME|INDEX|WNID [-n N] [-per-image K] [-tile PX] [-workers N] [-limit N] [-o OUT.png] [-json] [-shard I/N] DIR"}

type patchesOpts struct {
	modelOpts
	class    string
	n        int
	perImage int
	tile     int
	limit    int
	out      string
	json     bool
	shard    string
}

// define adds the command's flags.
func (o *patchesOpts) define(fs *flag.FlagSet) {
	o.modelFlags(fs, "images processed in parallel")
	fs.StringVar(&o.class, "class", "", "the class: index, WordNet id or name (required)")
	fs.IntVar(&o.n, "n", 16, "patches in each list")
	fs.IntVar(&o.perImage, "per-image", 1, "at most this many patches of one image in each list (neighbouring patches overlap and look alike)")
	fs.IntVar(&o.tile, "tile", 96, "size in pixels of each patch in the PNG")
	fs.IntVar(&o.limit, "limit", 0, "at most this many images per class folder, evenly spaced over the sorted file list (0: all)")
	fs.StringVar(&o.out, "o", "", "output PNG (default patches.png; with -json, only when given)")
	fs.BoolVar(&o.json, "json", false, `print one JSON object: {"model","class":{"index","id","name"},"images","for":[{"image","label","cell":[i,j],"box":[x0,y0,x1,y1],"evidence"}],"distractors":[..],"against":[..]}`)
	shardFlag(fs, &o.shard)
}

// patchHit is one patch in one of the lists, and the JSON of it.
type patchHit struct {
	Image    string     `json:"image"`
	Label    string     `json:"label,omitempty"` // the image's class folder (WordNet id); absent for plain images
	Cell     [2]int     `json:"cell"`            // row i, column j of the evidence map
	Box      [4]float64 `json:"box"`             // the receptive field in the image's pixels: x0, y0, x1, y1 (half-open, may reach past the edges)
	Evidence float32    `json:"evidence"`        // the patch's contribution to the class logit (logit = mean over patches + bias)

	crop      *heatmap.PatchTile
	label     int    // index into the model's classes, -1 for plain images
	labelName string // its name
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
	if err := checkWorkers(o.workers); err != nil {
		return err
	}
	if o.limit < 0 {
		return usagef("-limit %d: want 0 (all) or more", o.limit)
	}
	if o.shard != "" {
		if _, err := parseShard(o.shard); err != nil {
			return err
		}
		if o.out != "" {
			return usagef("-shard prints a partial result; give -o to 'bagnet merge'")
		}
	}
	out := o.out
	if out == "" && !o.json && o.shard == "" {
		out = "patches.png"
	}
	if out != "" {
		if err := checkOut(out); err != nil {
			return err
		}
	}
	dir := args[0]
	eng, wpath, err := loadEngineAt(o.weights)
	if err != nil {
		return err
	}
	c, err := resolveClass(eng, o.class, wpath)
	if err != nil {
		return err
	}
	imgs, labelled, err := patchImages(e, dir, eng, wpath, o.limit)
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

	sh := fullRun
	if o.shard != "" {
		sh, _ = parseShard(o.shard) // checked above
	}
	lo, hi := sh.slice(len(imgs))
	crops := out != "" || o.shard != "" // a part carries its crops for merge's PNG
	lists := newPatchLists(o.n, labelled)
	var mu sync.Mutex
	scan := func(im *patchImage) error {
		b, err := preprocess.ReadFile(im.path)
		if err != nil {
			return err
		}
		src, _, err := preprocess.Decode(b)
		if err != nil {
			return err
		}
		a, err := eng.ClassifyImage(src, 1)
		if err != nil {
			return err
		}
		ev, err := a.Evidence(c)
		if err != nil {
			return err
		}
		targets := []int{1} // an image of another class: a distractor
		if !labelled || im.label == c {
			targets = []int{0, 2} // a plain image or one of the class: for and against
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
					hit.labelName = eng.Classes[im.label].Name
				}
				if crops {
					hit.crop = &heatmap.PatchTile{
						Img:      heatmap.Crop(src, box, o.tile, o.tile),
						Evidence: ev[k],
					}
				}
				l.offer(hit)
			}
		}
		return nil
	}

	forEach(e.stderr, "scanning", hi-lo, o.workers, func(i int) {
		im := imgs[lo+i]
		im.err = recovered(func() error { return scan(im) })
	})

	run := &patchesRun{
		Dir: dir, Model: eng.Label(), Class: classRef{c, cls.ID, cls.Name}, Labelled: labelled,
		N: o.n, PerImage: o.perImage, Tile: o.tile,
		Inputs: len(imgs), InputsSHA256: pathsDigest(imgs, func(im *patchImage) string { return im.path }),
	}
	run.setLists(lists)
	for _, im := range imgs[lo:hi] {
		if im.err != nil {
			run.Errors++
			run.ErrorLines = append(run.ErrorLines, oneLine(fileErr(im.path, im.err).Error()))
		} else {
			run.Images++
		}
	}
	if o.shard != "" {
		for _, l := range run.ErrorLines {
			fmt.Fprintf(e.stderr, "bagnet: %s\n", l)
		}
		if err := run.encodeCrops(); err != nil {
			return err
		}
		return writePart(e, &part{Command: "patches", Shard: [2]int{sh.i, sh.n}, Patches: run})
	}
	return run.finish(e, o.json, out)
}

// newPatchLists are the empty lists for, distractors (none for plain
// images) and against.
func newPatchLists(n int, labelled bool) [3]*bestHits {
	lists := [3]*bestHits{{n: n, sign: 1}, {n: n, sign: 1}, {n: n, sign: -1}}
	if !labelled {
		lists[1].n = 0
	}
	return lists
}

// patchesRun is a run of patches over all or a shard of the images, and
// the part that patches -shard prints.
type patchesRun struct {
	Dir          string   `json:"dir"`
	Model        string   `json:"model"`
	Class        classRef `json:"class"`
	Labelled     bool     `json:"labelled"`
	N            int      `json:"n"`
	PerImage     int      `json:"per_image"`
	Tile         int      `json:"tile"`
	Inputs       int      `json:"inputs"` // images in the whole run
	InputsSHA256 string   `json:"inputs_sha256"`
	// The images of this run or shard: scanned, failed (one line each).
	Images      int        `json:"images"`
	Errors      int        `json:"errors"`
	ErrorLines  []string   `json:"error_lines,omitempty"`
	For         []*partHit `json:"for"`
	Distractors []*partHit `json:"distractors"`
	Against     []*partHit `json:"against"`
}

// partHit is a patchHit with what a part needs to draw it elsewhere.
type partHit struct {
	patchHit
	LabelName string `json:"label_name,omitempty"`
	Crop      []byte `json:"crop,omitempty"` // the tile as PNG (opaque, so it decodes to the same pixels)
}

// setLists stores the lists' hits, best first.
func (r *patchesRun) setLists(lists [3]*bestHits) {
	dst := [3]*[]*partHit{&r.For, &r.Distractors, &r.Against}
	for t, l := range lists {
		*dst[t] = []*partHit{}
		for _, h := range l.sorted() {
			*dst[t] = append(*dst[t], &partHit{patchHit: *h, LabelName: h.labelName})
		}
	}
}

// lists are the run's hits as patchHits.
func (r *patchesRun) lists() [3][]*patchHit {
	var out [3][]*patchHit
	for t, l := range [3][]*partHit{r.For, r.Distractors, r.Against} {
		out[t] = []*patchHit{}
		for _, h := range l {
			ph := h.patchHit
			ph.labelName = h.LabelName
			out[t] = append(out[t], &ph)
		}
	}
	return out
}

// encodeCrops turns the hits' tiles into PNG for a part.
func (r *patchesRun) encodeCrops() error {
	for _, l := range [3][]*partHit{r.For, r.Distractors, r.Against} {
		for _, h := range l {
			var buf bytes.Buffer
			if err := png.Encode(&buf, h.crop.Img); err != nil {
				return fmt.Errorf("encoding a patch of %s: %v", h.Image, err)
			}
			h.Crop = buf.Bytes()
		}
	}
	return nil
}

// mergePatches combines the parts (in shard order) of one patches run:
// each list keeps the best N of the parts' hits, which are the best N of
// every image since each part's list holds its own best N.
func mergePatches(parts []*part) (*patchesRun, error) {
	run := *parts[0].Patches
	run.Images, run.Errors, run.ErrorLines = 0, 0, nil
	lists := newPatchLists(run.N, run.Labelled)
	for _, p := range parts {
		pr := p.Patches
		run.Images += pr.Images
		run.Errors += pr.Errors
		run.ErrorLines = append(run.ErrorLines, pr.ErrorLines...)
		for t, l := range [3][]*partHit{pr.For, pr.Distractors, pr.Against} {
			for _, h := range l {
				img, err := png.Decode(bytes.NewReader(h.Crop))
				if err != nil {
					return nil, fmt.Errorf("shard %d/%d: the patch of %s: %v", p.Shard[0], p.Shard[1], h.Image, err)
				}
				if b := img.Bounds(); b.Dx() != run.Tile || b.Dy() != run.Tile {
					return nil, fmt.Errorf("shard %d/%d: the patch of %s is %dx%d, want %dx%d", p.Shard[0], p.Shard[1], h.Image, b.Dx(), b.Dy(), run.Tile, run.Tile)
				}
				ph := h.patchHit
				ph.labelName = h.LabelName
				ph.crop = &heatmap.PatchTile{Img: img, Evidence: ph.Evidence}
				lists[t].offer(&ph)
			}
		}
	}
	run.setLists(lists)
	return &run, nil
}

// finish prints what an unsharded run prints: one line per unreadable
// image on stderr, the PNG (when out is set), then the report.
func (r *patchesRun) finish(e *env, asJSON bool, out string) error {
	l := r.lists()
	rep := &patchesReport{
		Model: r.Model, Class: r.Class, Labelled: r.Labelled, Images: r.Images, Errors: r.Errors,
		For: l[0], Distractors: l[1], Against: l[2],
	}
	for _, line := range r.ErrorLines {
		fmt.Fprintf(e.stderr, "bagnet: %s\n", line)
	}
	if rep.Images == 0 {
		return errReported
	}
	if out != "" {
		fig := patchFigure(rep, r.Dir, r.N, r.PerImage, r.Tile)
		var buf bytes.Buffer
		if err := png.Encode(&buf, fig); err != nil {
			return fileErr(out, err)
		}
		if err := writeFile(out, buf.Bytes()); err != nil {
			return err
		}
		if !asJSON {
			fmt.Fprintf(e.stdout, "wrote %s (%dx%d)\n", out, fig.Rect.Dx(), fig.Rect.Dy())
		}
	}
	return output(e, asJSON, rep, func() { rep.print(e.stdout, r.Dir) }, rep.Errors)
}

// patchImages lists the images of dir: with their class when dir holds
// class folders named by WordNet ids of the model's classes (the layout
// eval reads), else every image under dir, unlabelled.
func patchImages(e *env, dir string, eng *engine.Engine, wpath string, limit int) ([]*patchImage, bool, error) {
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
		classes, skipped, err := evalClasses(dir, eng, wpath, limit)
		if err != nil {
			return nil, false, err
		}
		warnSkipped(e, dir, skipped, wpath)
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
func patchFigure(rep *patchesReport, dir string, n, perImage, tile int) *image.RGBA {
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
			if showLabel && h.Label != "" {
				t.Lines = append(t.Lines, h.labelName)
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
	if perImage == 1 {
		per = ", one per image"
	} else {
		per = fmt.Sprintf(", at most %d per image", perImage)
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
	perRow := min(8, n)
	return heatmap.Patches(title, sections, tile, perRow, absMax, lo, hi)
}

// print writes the lists as text.
func (r *patchesReport) print(w io.Writer, dir string) {
	fmt.Fprintf(w, "model  %s\nclass  %s (%s), index %d\ndata   %s: %d images\n", r.Model, r.Class.Name, r.Class.ID, r.Class.Index, dir, r.Images)
	list := func(title string, hits []*patchHit) {
		fmt.Fprintf(w, "\n%s\n", title)
		if len(hits) == 0 {
			fmt.Fprintln(w, "  (none)")
		}
		for k, h := range hits {
			lab := ""
			if h.Label != "" {
				lab = "  " + h.labelName
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
