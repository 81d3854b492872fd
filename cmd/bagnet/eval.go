package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"path/filepath"
	"sort"
	"strings"

	"github.com/bagnetweb/bagnet/engine"
	"github.com/bagnetweb/bagnet/evalreport"
	"github.com/bagnetweb/bagnet/preprocess"
)

var evalCmd = &command{name: "eval", opts: func() options { return new(evalOpts) },
	summary: "measure top-1 and top-5 accuracy on DIR, which holds one folder of images per class named by WordNet id (n01440764/...)",
	usage:   "[-weights FILE] [-json] [-workers N] [-limit N] [-shard I/N] DIR"}

type evalOpts struct {
	modelOpts
	json  bool
	limit int
	shard string
}

// define adds the command's flags.
func (o *evalOpts) define(fs *flag.FlagSet) {
	o.modelFlags(fs, "images classified in parallel (the result is the same for any number)")
	fs.BoolVar(&o.json, "json", false, `print one JSON object: {"model","images","errors","top1","top5","per_class":{WNID:{"name","images","top1","top5"}},"classes","columns","confusion"}`)
	fs.IntVar(&o.limit, "limit", 0, "at most this many images per class, evenly spaced over the sorted file list (0: all)")
	shardFlag(fs, &o.shard)
}

// evalClass is one class folder of the data set.
type evalClass struct {
	id     string
	index  int // in the model's classes
	name   string
	images []string
}

// evalJob is one image and what became of it.
type evalJob struct {
	path  string
	class int // row: index into the evalClass slice
	top   []int
	err   error
}

func (o *evalOpts) run(e *env, args []string) error {
	if len(args) != 1 {
		return usagef("want exactly one directory, got %d arguments", len(args))
	}
	if err := checkWorkers(o.workers); err != nil {
		return err
	}
	if o.limit < 0 {
		return usagef("-limit %d: want 0 (all) or more", o.limit)
	}
	sh := fullRun
	if o.shard != "" {
		var err error
		if sh, err = parseShard(o.shard); err != nil {
			return err
		}
	}
	dir := args[0]
	eng, wpath, err := loadEngineAt(o.weights)
	if err != nil {
		return err
	}
	classes, skipped, err := evalClasses(dir, eng, wpath, o.limit)
	if err != nil {
		return err
	}
	warnSkipped(e, dir, skipped, wpath)
	var jobs []*evalJob
	for r, c := range classes {
		for _, p := range c.images {
			jobs = append(jobs, &evalJob{path: p, class: r})
		}
	}
	if len(jobs) == 0 {
		return fileErrf(dir, "no images found in the class folders (looked for %s files)", extList())
	}
	k := min(5, len(eng.Classes))
	ev := &evalRun{
		Dir: dir, Model: eng.Label(), ModelClasses: len(eng.Classes), Skipped: skipped,
		Inputs: len(jobs), InputsSHA256: pathsDigest(jobs, func(j *evalJob) string { return j.path }),
	}
	for _, c := range classes {
		ev.Classes = append(ev.Classes, evalPartClass{c.id, c.index, c.name})
	}
	lo, hi := sh.slice(len(jobs))
	forEach(e.stderr, "evaluating", hi-lo, o.workers, func(i int) {
		j := jobs[lo+i]
		j.top, j.err = topClasses(eng, j.path, k)
	})
	for _, j := range jobs[lo:hi] {
		r := evalPartResult{Image: j.path, Row: j.class, Top: j.top}
		if j.err != nil {
			r.Top, r.Error = nil, oneLine(fileErr(j.path, j.err).Error())
		}
		ev.Results = append(ev.Results, r)
	}
	if o.shard != "" {
		for _, r := range ev.Results {
			if r.Error != "" {
				fmt.Fprintf(e.stderr, "bagnet: %s\n", r.Error)
			}
		}
		return writePart(e, &part{Command: "eval", Shard: [2]int{sh.i, sh.n}, Eval: ev})
	}
	return ev.finish(e, o.json)
}

// finish prints the report of a whole run (or of its merged parts) as an
// unsharded run does: one line per unreadable image on stderr, then the
// report; exit status 1 when some images failed.
func (ev *evalRun) finish(e *env, asJSON bool) error {
	var classes []evalClass
	for _, c := range ev.Classes {
		classes = append(classes, evalClass{id: c.ID, index: c.Index, name: c.Name})
	}
	var jobs []*evalJob
	for _, r := range ev.Results {
		j := &evalJob{path: r.Image, class: r.Row, top: r.Top}
		if r.Error != "" {
			j.err = errors.New(r.Error)
			fmt.Fprintf(e.stderr, "bagnet: %s\n", r.Error)
		}
		jobs = append(jobs, j)
	}
	rep := summarize(ev.Model, ev.ModelClasses, classes, jobs)
	rep.Skipped = ev.Skipped
	return output(e, asJSON, rep, func() { printEval(e.stdout, rep, ev.Dir) }, rep.Errors)
}

// evalClasses lists the class folders of dir, in the model's class order,
// and the folders it skipped because their names are not WordNet ids of
// the model's classes (sorted). It fails when no folder is left.
func evalClasses(dir string, eng *engine.Engine, wpath string, limit int) ([]evalClass, []string, error) {
	names, err := subDirs(dir)
	if err != nil {
		return nil, nil, err
	}
	byID := map[string]int{}
	for i, c := range eng.Classes {
		if c.ID != "" {
			byID[c.ID] = i
		}
	}
	var classes []evalClass
	var skipped []string
	for _, name := range names {
		p := filepath.Join(dir, name)
		idx, ok := byID[name]
		if !ok {
			skipped = append(skipped, name)
			continue
		}
		imgs, err := findImages(p)
		if err != nil {
			return nil, nil, err
		}
		classes = append(classes, evalClass{id: name, index: idx, name: eng.Classes[idx].Name, images: spread(imgs, limit)})
	}
	if len(classes) == 0 && len(skipped) > 0 {
		return nil, nil, fileErrf(dir, "none of its %d folders (%s) is named by a WordNet id of %s's %d classes",
			len(skipped), listNames(skipped, 5), modelName(wpath), len(eng.Classes))
	}
	if len(classes) == 0 {
		return nil, nil, fileErrf(dir, "no class folders (want one folder of images per class, named by WordNet id, e.g. n01440764)")
	}
	sort.Slice(classes, func(a, b int) bool { return classes[a].index < classes[b].index })
	return classes, skipped, nil
}

// warnSkipped prints one warning per class folder of dir that was skipped.
func warnSkipped(e *env, dir string, skipped []string, wpath string) {
	for _, name := range skipped {
		fmt.Fprintf(e.stderr, "bagnet: warning: %s: skipped: %q is not a WordNet id of %s's classes\n",
			filepath.Join(dir, name), name, modelName(wpath))
	}
}

// listNames is the first n names, comma-separated, and how many more.
func listNames(names []string, n int) string {
	if len(names) <= n {
		return strings.Join(names, ", ")
	}
	return fmt.Sprintf("%s and %d more", strings.Join(names[:n], ", "), len(names)-n)
}

// modelName names the model file loaded from wpath (loadEngineAt) in a
// message: its base name, or "the embedded model".
func modelName(wpath string) string {
	if wpath == defaultWeights || wpath == "" {
		return "the embedded model"
	}
	return filepath.Base(wpath)
}

// topClasses classifies one image file and returns its k best classes.
func topClasses(eng *engine.Engine, path string, k int) (top []int, err error) {
	err = recovered(func() error {
		b, err := preprocess.ReadFile(path)
		if err != nil {
			return err
		}
		a, err := eng.Classify(b, k)
		if err != nil {
			return err
		}
		for _, p := range a.Top {
			top = append(top, p.Index)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return top, nil
}

// summarize builds the report of a model labelled label, with modelClasses
// classes, on the images of jobs (rows index classes).
func summarize(label string, modelClasses int, classes []evalClass, jobs []*evalJob) *evalreport.Report {
	var cs []evalreport.Class
	for _, c := range classes {
		cs = append(cs, evalreport.Class{ID: c.id, Index: c.index, Name: c.name})
	}
	var rs []evalreport.Result
	for _, j := range jobs {
		rs = append(rs, evalreport.Result{Row: j.class, Top: j.top, Failed: j.err != nil})
	}
	return evalreport.Summarize(label, modelClasses, cs, rs)
}

func pct(f *float64) string {
	if f == nil {
		return "-"
	}
	return fmt.Sprintf("%.1f%%", 100**f)
}

// print writes the human-readable report.
func printEval(w io.Writer, r *evalreport.Report, dir string) {
	fmt.Fprintf(w, "model  %s\n", r.Model)
	fmt.Fprintf(w, "data   %s: %d images in %d classes", dir, r.Images, len(r.Classes))
	if r.Errors > 0 {
		fmt.Fprintf(w, ", %d unreadable", r.Errors)
	}
	fmt.Fprintln(w)
	if len(r.Skipped) > 0 {
		fmt.Fprintf(w, "skipped %d folder(s) the model has no class for: %s\n", len(r.Skipped), strings.Join(r.Skipped, ", "))
	}
	k := min(5, r.ModelClasses)
	fmt.Fprintf(w, "top-1  %s (%d/%d)\n", pct(r.Top1), r.Top1N, r.Images)
	fmt.Fprintf(w, "top-%d  %s (%d/%d)\n\n", k, pct(r.Top5), r.Top5N, r.Images)

	nameW := 4
	for _, n := range r.Names {
		nameW = max(nameW, min(len([]rune(n)), 24))
	}
	fmt.Fprintf(w, "%3s  %-10s %-*s %6s %7s %7s\n", "#", "class", nameW, "name", "images", "top-1", "top-"+fmt.Sprint(k))
	for i, id := range r.Classes {
		s := r.PerClass[id]
		fmt.Fprintf(w, "%3d  %-10s %-*s %6d %7s %7s\n", i, id, nameW, clip(s.Name, nameW), s.Images, pct(s.Top1), pct(s.Top5))
	}

	// Confusion matrix: rows and columns use the row numbers above.
	cw := 3
	for _, row := range r.Confusion {
		for _, v := range row {
			cw = max(cw, len(fmt.Sprint(v))+1)
		}
	}
	lw := 3 + 1 + 12 // row number, space, short name
	fmt.Fprintf(w, "\nconfusion matrix (rows: true class, columns: predicted class, by # above")
	if len(r.Columns) > len(r.Classes) {
		fmt.Fprint(w, "; oth: a class not in "+filepath.Base(dir))
	}
	fmt.Fprintf(w, ")\n%*s", lw, "")
	for c := range r.Columns {
		label := fmt.Sprint(c)
		if c >= len(r.Classes) {
			label = "oth"
		}
		fmt.Fprintf(w, " %*s", cw, label)
	}
	fmt.Fprintln(w)
	for i, row := range r.Confusion {
		fmt.Fprintf(w, "%3d %-12s", i, clip(r.Names[i], 12))
		for _, v := range row {
			fmt.Fprintf(w, " %*d", cw, v)
		}
		fmt.Fprintln(w)
	}
}

// clip shortens s to n characters.
func clip(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n])
}

// evalRun is a run of eval over all or a shard of the images, and the part
// that eval -shard prints.
type evalRun struct {
	Dir          string          `json:"dir"`
	Model        string          `json:"model"`
	ModelClasses int             `json:"model_classes"`
	Classes      []evalPartClass `json:"classes"` // the class folders, in the model's class order
	Skipped      []string        `json:"skipped,omitempty"`
	Inputs       int             `json:"inputs"` // images in the whole run
	InputsSHA256 string          `json:"inputs_sha256"`
	// Results are this run's or shard's images, in the run's order.
	Results []evalPartResult `json:"results"`
}

type evalPartClass struct {
	ID    string `json:"id"`
	Index int    `json:"index"`
	Name  string `json:"name"`
}

// evalPartResult is one image: its best classes, or the error line.
type evalPartResult struct {
	Image string `json:"image"`
	Row   int    `json:"row"` // index into Classes
	Top   []int  `json:"top,omitempty"`
	Error string `json:"error,omitempty"`
}

// mergeEval combines the parts (in shard order) of one eval run.
func mergeEval(parts []*part) (*evalRun, error) {
	run := *parts[0].Eval
	run.Results = nil
	for _, p := range parts {
		run.Results = append(run.Results, p.Eval.Results...)
	}
	if len(run.Results) != run.Inputs {
		return nil, fmt.Errorf("the parts hold %d images, the run has %d", len(run.Results), run.Inputs)
	}
	for _, r := range run.Results {
		if r.Row < 0 || r.Row >= len(run.Classes) || (r.Error == "" && len(r.Top) == 0) {
			return nil, fmt.Errorf("a damaged result for %s", r.Image)
		}
		for _, c := range r.Top {
			if c < 0 || c >= run.ModelClasses {
				return nil, fmt.Errorf("a damaged result for %s: class %d", r.Image, c)
			}
		}
	}
	return &run, nil
}
