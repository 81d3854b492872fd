package main

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/bagnetweb/bagnet/engine"
	"github.com/bagnetweb/bagnet/preprocess"
	"github.com/bagnetweb/bagnet/teach"
	"github.com/bagnetweb/bagnet/teachset"
	"github.com/bagnetweb/bagnet/weights"
)

var teachCmd = &command{name: "teach", opts: func() options { return new(teachOpts) },
	summary: "teach the model new classes: train a new head on DIR, one folder of images per class (the folder name is the class id and name; DIR/classes.tsv may give names: id<TAB>name), report its k-fold held-out accuracy and write the new model file",
	usage:   "[-weights BACKBONE] [-name NAME] [-o FILE] [-workers N] [-folds K] [-limit N] [-method lda|logreg] [-shrink A] [-threshold T] [-prior-shrink P] [-no-prior] [-l2 X] [-steps N] DIR"}

type teachOpts struct {
	modelOpts
	name   string
	out    string
	folds  int
	limit  int
	method string
	opt    teach.Options
}

// define adds the command's flags.
func (o *teachOpts) define(fs *flag.FlagSet) {
	o.modelFlags(fs, "images whose features are computed in parallel (the result is the same for any number)")
	fs.StringVar(&o.name, "name", "", "the new model's display name (default: \"BagNet taught: \" and DIR's base name)")
	fs.StringVar(&o.out, "o", "taught.safetensors", "the model file to write")
	fs.IntVar(&o.folds, "folds", teach.DefaultFolds, "folds of the held-out accuracy (k-fold cross-validation; 0: skip it)")
	fs.IntVar(&o.limit, "limit", 0, "use only the first N images of each class, in sorted order (0: all)")
	fs.StringVar(&o.method, "method", string(teach.DefaultMethod), "how the head is fitted: lda (shrinkage linear discriminant) or logreg (logistic regression)")
	fs.Func("shrink", fmt.Sprintf("lda: shrinkage of the within-class covariance toward its target (its diagonal, or the model's feature prior), in (0, 1] (default %g, or 1 with a feature prior)", float64(teach.DefaultShrink)), func(v string) error {
		x, err := strconv.ParseFloat(v, 64)
		if err != nil || !(x > 0 && x <= 1) {
			return fmt.Errorf("want a number in (0, 1]")
		}
		o.opt.Shrink = x
		return nil
	})
	fs.Func("threshold", fmt.Sprintf("lda: soft threshold on the class means' deviations from their average, in standard errors of a class mean (default %g, or %g with a feature prior; 0: none)", float64(teach.DefaultThreshold), float64(teach.DefaultPriorThreshold)), func(v string) error {
		x, err := strconv.ParseFloat(v, 64)
		if err != nil || !(x >= 0 && x <= 100) {
			return fmt.Errorf("want a number from 0 (none) to 100")
		}
		if x == 0 {
			x = -1 // -threshold 0 means none; teach.Options' 0 means the default
		}
		o.opt.Threshold = x
		return nil
	})
	fs.Float64Var(&o.opt.PriorShrink, "prior-shrink", teach.DefaultPriorShrink, "lda with a feature prior: shrinkage of the prior correlation toward the identity, in (0, 1]")
	fs.BoolVar(&o.opt.NoPrior, "no-prior", false, "do not use the model's feature prior (teach as for a model without one)")
	fs.Float64Var(&o.opt.L2, "l2", teach.DefaultL2, "logreg: L2 penalty on the head's weights (of standardised features; negative: none)")
	fs.IntVar(&o.opt.Steps, "steps", teach.DefaultSteps, "logreg: full-batch gradient steps")
	fs.BoolVar(&o.opt.NoMirror, "no-mirror", false, "do not add each image's mirror image to the training set")
}

// teachClass is one class folder.
type teachClass struct {
	weights.Class
	images []string
}

func (o *teachOpts) run(e *env, args []string) error {
	if len(args) != 1 {
		return usagef("want exactly one directory, got %d arguments", len(args))
	}
	if err := checkWorkers(o.workers); err != nil {
		return err
	}
	switch {
	case o.folds < 0 || o.folds == 1 || o.folds > 100:
		return usagef("-folds %d: want 0 (no held-out accuracy) or 2 to 100", o.folds)
	case o.limit < 0:
		return usagef("-limit %d: want 0 (all) or more", o.limit)
	case o.opt.Steps < 1 || o.opt.Steps > teach.MaxSteps:
		return usagef("-steps %d out of range [1, %d]", o.opt.Steps, teach.MaxSteps)
	case o.opt.L2 != o.opt.L2 || o.opt.L2 > 1e6:
		return usagef("-l2 %v: want a number up to 1e6", o.opt.L2)
	case o.method != string(teach.LDA) && o.method != string(teach.LogReg):
		return usagef("-method %q: want %s or %s", o.method, teach.LDA, teach.LogReg)
	case !(o.opt.PriorShrink > 0 && o.opt.PriorShrink <= 1):
		return usagef("-prior-shrink %v: want a number in (0, 1]", o.opt.PriorShrink)
	case o.out == "":
		return usagef("-o: want a file name")
	}
	o.opt.Method = teach.Method(o.method)
	if o.opt.L2 == 0 {
		o.opt.L2 = -1 // -l2 0 means no penalty; teach.Options' 0 means the default
	}
	dir := args[0]
	if err := checkOut(o.out); err != nil {
		return err
	}
	eng, wpath, err := loadEngineAt(o.weights)
	if err != nil {
		return err
	}
	if eng.Int8 == nil {
		return fileErrf(wpath, "a float32 model: teaching needs an int8 model (make one with 'bagnet convert')")
	}
	classes, err := teachClasses(dir, o.limit)
	if err != nil {
		return err
	}
	name := o.name
	if name == "" {
		name = teachset.DefaultName(filepath.Base(filepath.Clean(dir)))
	}
	t0 := time.Now()
	ex, failed, total, err := classExamples(e, eng, wpath, dir, classes, o.workers)
	if err != nil {
		return err
	}
	tFeat := time.Since(t0)
	o.opt = o.opt.ForBackbone(eng.Model)
	usable := make([]int, len(classes))
	for _, x := range ex {
		usable[x.Class]++
	}
	wc := make([]weights.Class, len(classes))
	for i, c := range classes {
		wc[i] = c.Class
	}
	var rep *teach.Report
	t1 := time.Now()
	if o.folds >= 2 && slices.Max(usable) < 2 {
		fmt.Fprintf(e.stderr, "bagnet: warning: no held-out accuracy: every class has only 1 usable image (cross-validation needs 2 in some class)\n")
	} else if o.folds >= 2 {
		if rep, err = teach.CrossValidate(ex, len(classes), o.folds, o.opt); err != nil {
			return fmt.Errorf("held-out accuracy: %v", strings.TrimPrefix(err.Error(), "teach: "))
		}
	}
	tCV := time.Since(t1)
	t2 := time.Now()
	file, err := teach.Teach(eng.Model, ex, wc, name, o.opt)
	if err != nil {
		return fmt.Errorf("teaching: %v", strings.TrimPrefix(err.Error(), "teach: "))
	}
	tTrain := time.Since(t2)
	if err := writeFile(o.out, file); err != nil {
		return err
	}
	w := e.stdout
	fmt.Fprintf(w, "%s: %d classes taught from %d images on %s\n", o.out, len(classes), len(ex), eng.Label())
	if rep != nil {
		fmt.Fprintf(w, "%d-fold held-out accuracy: %.1f%% (%d of %d images)\n", rep.Folds, 100*rep.Accuracy(), rep.Correct, rep.Images)
		fmt.Fprintf(w, "%-24s %-24s %7s %8s %9s\n", "class", "name", "images", "correct", "accuracy")
		for c, s := range rep.PerClass {
			acc := "-"
			if s.Images > 0 {
				acc = fmt.Sprintf("%.1f%%", 100*float64(s.Correct)/float64(s.Images))
			}
			fmt.Fprintf(w, "%-24s %-24s %7d %8d %9s\n", classes[c].ID, classes[c].Name, s.Images, s.Correct, acc)
		}
	}
	fmt.Fprintf(e.stderr, "bagnet: teach: features of %d images (and their mirror images) %.2f s on %d workers, held-out accuracy %.2f s, training %.2f s\n",
		len(ex), tFeat.Seconds(), o.workers, tCV.Seconds(), tTrain.Seconds())
	if failed > 0 {
		fmt.Fprintf(e.stderr, "bagnet: %d of %d images could not be used (listed above); the model was taught from the rest\n", failed, total)
		return errReported
	}
	return nil
}

// teachClasses lists the class folders of dir (sorted by name, hidden ones
// skipped) with their images (sorted; the first limit when limit > 0) and
// their names from dir/classes.tsv when it has them (package teachset: the
// page lists a chosen folder the same way).
func teachClasses(dir string, limit int) ([]teachClass, error) {
	st, err := os.Stat(dir)
	if err != nil {
		return nil, fileErr(dir, err)
	}
	if !st.IsDir() {
		return nil, fileErrf(dir, "not a directory (want one folder of images per class)")
	}
	ids, err := subDirs(dir)
	if err != nil {
		return nil, err
	}
	tsv := filepath.Join(dir, teachset.TSV)
	var names map[string]string
	if b, err := os.ReadFile(tsv); err == nil {
		if names, err = teachset.ParseNames(b); err != nil {
			return nil, fileErr(tsv, err)
		}
	} else if !os.IsNotExist(err) {
		return nil, fileErr(tsv, err)
	}
	images := map[string][]string{}
	for _, id := range ids {
		if images[id], err = findImages(filepath.Join(dir, id)); err != nil {
			return nil, err
		}
	}
	list, err := teachset.Build(images, names, limit)
	if e, ok := err.(*teachset.NoImagesError); ok {
		return nil, fileErr(filepath.Join(dir, e.ID), err)
	}
	if err != nil {
		return nil, fileErr(dir, err)
	}
	classes := make([]teachClass, len(list))
	for i, c := range list {
		classes[i] = teachClass{Class: weights.Class{ID: c.ID, Name: c.Name}, images: c.Images}
	}
	return classes, nil
}

// classExamples computes the pooled features (teach.Extract) of the images
// of the class folders of dir on workers goroutines, in the order of
// classes and their images. An image that fails is listed on stderr and
// counted in failed (of total); a class without a usable image is an
// error.
func classExamples(e *env, eng *engine.Engine, wpath, dir string, classes []teachClass, workers int) (ex []teach.Example, failed, total int, err error) {
	type job struct {
		path  string
		class int
		ex    teach.Example
		err   error
	}
	var jobs []*job
	for c, cl := range classes {
		for _, p := range cl.images {
			jobs = append(jobs, &job{path: p, class: c})
		}
	}
	mode, err := preprocess.ParseMode(eng.Resize)
	if err != nil {
		return nil, 0, 0, fileErr(wpath, err)
	}
	forEach(e.stderr, "features", len(jobs), workers, func(i int) {
		j := jobs[i]
		j.err = recovered(func() error {
			b, err := preprocess.ReadFile(j.path)
			if err != nil {
				return err
			}
			rgb, _, err := preprocess.Image(b, mode, eng.InputSize)
			if err != nil {
				return err
			}
			j.ex, err = teach.Extract(eng.Int8, rgb, eng.InputSize, j.class)
			return err
		})
	})
	usable := make([]int, len(classes))
	for _, j := range jobs {
		if j.err != nil {
			failed++
			fmt.Fprintf(e.stderr, "bagnet: %s\n", oneLine(fileErr(j.path, j.err).Error()))
			continue
		}
		ex = append(ex, j.ex)
		usable[j.class]++
	}
	for c, n := range usable {
		if n == 0 {
			return nil, 0, 0, fileErrf(filepath.Join(dir, classes[c].ID), "no usable image: all %d failed (see above); every class needs at least one", len(classes[c].images))
		}
	}
	return ex, failed, len(jobs), nil
}
