package main

import (
	"bytes"
	"flag"
	"fmt"
	"image/png"
	"io"
	"os"
	"path/filepath"
	"sync"

	"github.com/bagnetweb/bagnet/engine"
	"github.com/bagnetweb/bagnet/geom"
	"github.com/bagnetweb/bagnet/heatmap"
	"github.com/bagnetweb/bagnet/model"
	"github.com/bagnetweb/bagnet/patchset"
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
	fs.IntVar(&o.n, "n", patchset.DefaultN, "patches in each list")
	fs.IntVar(&o.perImage, "per-image", patchset.DefaultPerImage, "at most this many patches of one image in each list (neighbouring patches overlap and look alike)")
	fs.IntVar(&o.tile, "tile", patchset.DefaultTile, "size in pixels of each patch in the PNG")
	fs.IntVar(&o.limit, "limit", 0, "at most this many images per class folder, evenly spaced over the sorted file list (0: all)")
	fs.StringVar(&o.out, "o", "", "output PNG (default patches.png; with -json, only when given)")
	fs.BoolVar(&o.json, "json", false, `print one JSON object: {"model","class":{"index","id","name"},"images","for":[{"image","label","cell":[i,j],"box":[x0,y0,x1,y1],"evidence"}],"distractors":[..],"against":[..]}`)
	shardFlag(fs, &o.shard)
}

// patchHit is one patch in one of the lists, and the JSON of it.
type patchHit = patchset.Hit

// patchesReport is what -json prints.
type patchesReport = patchset.Report

type classRef = patchset.ClassRef

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
	lists := patchset.NewLists(c, o.n, labelled)
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
		im2 := &patchset.Image{Path: im.path, Label: im.label, Transform: a.Transform.Wire()}
		if im.label >= 0 {
			im2.LabelID, im2.LabelName = eng.Classes[im.label].ID, eng.Classes[im.label].Name
		}
		g := patchset.Geometry{MapW: a.Map.W, Stride: model.Stride, Patch: eng.Config.Patch()}
		pos, neg := patchset.Candidates(ev, o.perImage)
		mu.Lock()
		defer mu.Unlock()
		lists.Offer(im2, g, pos, neg, func(hit *patchHit) {
			if crops {
				hit.Tile = heatmap.Crop(src, geom.Rect[float64]{X0: hit.Box[0], Y0: hit.Box[1], X1: hit.Box[2], Y1: hit.Box[3]}, o.tile, o.tile)
			}
		})
		return nil
	}

	forEach(e.stderr, "scanning", hi-lo, o.workers, func(i int) {
		im := imgs[lo+i]
		im.err = recovered(func() error { return scan(im) })
	})

	run := &patchesRun{
		Dir: dir, Model: eng.Label(), Class: classRef{Index: c, ID: cls.ID, Name: cls.Name}, Labelled: labelled,
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
	patchset.Hit
	LabelName string `json:"label_name,omitempty"`
	Crop      []byte `json:"crop,omitempty"` // the tile as PNG (opaque, so it decodes to the same pixels)
}

// setLists stores the lists' hits, best first.
func (r *patchesRun) setLists(lists *patchset.Lists) {
	dst := [3]*[]*partHit{&r.For, &r.Distractors, &r.Against}
	for t, l := range lists.Sorted() {
		*dst[t] = []*partHit{}
		for _, h := range l {
			*dst[t] = append(*dst[t], &partHit{Hit: *h, LabelName: h.LabelName})
		}
	}
}

// lists are the run's hits as patchHits.
func (r *patchesRun) lists() [3][]*patchHit {
	var out [3][]*patchHit
	for t, l := range [3][]*partHit{r.For, r.Distractors, r.Against} {
		out[t] = []*patchHit{}
		for _, h := range l {
			ph := h.Hit
			ph.LabelName = h.LabelName
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
			if err := png.Encode(&buf, h.Tile); err != nil {
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
	lists := patchset.NewLists(run.Class.Index, run.N, run.Labelled)
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
				ph := h.Hit
				ph.LabelName = h.LabelName
				ph.Tile = img
				lists.Lists[t].Offer(&ph)
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
		fig := patchset.Figure(rep, filepath.Base(filepath.Clean(r.Dir)), r.N, r.PerImage, r.Tile, filepath.Base)
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
	return output(e, asJSON, rep, func() { printPatches(rep, e.stdout, r.Dir) }, rep.Errors)
}

// patchImages lists the images of dir: with their class when dir holds
// class folders named by WordNet ids of the model's classes (the layout
// eval reads), else every image under dir, unlabelled.
func patchImages(e *env, dir string, eng *engine.Engine, wpath string, limit int) ([]*patchImage, bool, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, false, fileErr(dir, err)
	}
	// Labelled when a folder is named by a class id, as eval and the page
	// take folders (evalreport.Plan).
	ids := map[string]bool{}
	for _, c := range eng.Classes {
		ids[c.ID] = true
	}
	labelled := false
	for _, ent := range entries {
		if ids[ent.Name()] {
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

// print writes the lists as text.
func printPatches(r *patchesReport, w io.Writer, dir string) {
	fmt.Fprintf(w, "model  %s\nclass  %s (%s), index %d\ndata   %s: %d images\n", r.Model, r.Class.Name, r.Class.ID, r.Class.Index, dir, r.Images)
	list := func(title string, hits []*patchHit) {
		fmt.Fprintf(w, "\n%s\n", title)
		if len(hits) == 0 {
			fmt.Fprintln(w, "  (none)")
		}
		for k, h := range hits {
			lab := ""
			if h.Label != "" {
				lab = "  " + h.LabelName
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
