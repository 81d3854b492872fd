package main

import (
	"flag"
	"fmt"
	"time"

	"github.com/bagnetweb/bagnet/teach"
	"github.com/bagnetweb/bagnet/weights"
)

var priorCmd = &command{name: "prior", opts: func() options { return new(priorOpts) },
	summary: "give an int8 model its feature prior: the within-class correlation of its pooled features over DIR, one folder of images per class (normally the backbone's training set), which 'bagnet teach' and the page use to teach new classes from few images; writes the model file with the prior added (or replaced)",
	usage:   "[-weights MODEL] [-o FILE] [-workers N] [-limit N] DIR"}

type priorOpts struct {
	modelOpts
	out   string
	limit int
}

// define adds the command's flags.
func (o *priorOpts) define(fs *flag.FlagSet) {
	o.modelFlags(fs, "images whose features are computed in parallel (the result is the same for any number)")
	fs.StringVar(&o.out, "o", "", "the model file to write (may be the -weights file itself)")
	fs.IntVar(&o.limit, "limit", 0, "use only the first N images of each class, in sorted order (0: all)")
}

func (o *priorOpts) run(e *env, args []string) error {
	if len(args) != 1 {
		return usagef("want exactly one directory, got %d arguments", len(args))
	}
	if err := checkWorkers(o.workers); err != nil {
		return err
	}
	switch {
	case o.limit < 0:
		return usagef("-limit %d: want 0 (all) or more", o.limit)
	case o.out == "":
		return usagef("-o: want a file name")
	}
	if err := checkOut(o.out); err != nil {
		return err
	}
	dir := args[0]
	eng, wpath, err := loadEngineAt(o.weights)
	if err != nil {
		return err
	}
	if eng.Int8 == nil {
		return fileErrf(wpath, "a float32 model: a feature prior belongs to an int8 model (make one with 'bagnet convert')")
	}
	classes, err := teachClasses(dir, o.limit)
	if err != nil {
		return err
	}
	t0 := time.Now()
	ex, failed, total, err := classExamples(e, eng, wpath, dir, classes, o.workers)
	if err != nil {
		return err
	}
	if failed > 0 {
		return fmt.Errorf("%d of %d images could not be used (listed above): a prior is made from every image or none", failed, total)
	}
	p, err := teach.Prior(ex, len(classes))
	if err != nil {
		return err
	}
	m := *eng.Model
	m.Prior = p
	file, err := weights.Encode(&m)
	if err != nil {
		return err
	}
	if err := writeFile(o.out, file); err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "%s: %s with the within-class correlation of its %d features over %d images (and their mirror images) in %d classes\n",
		o.out, eng.Label(), eng.Config.Features(), len(ex), len(classes))
	fmt.Fprintf(e.stderr, "bagnet: prior: %.2f s on %d workers\n", time.Since(t0).Seconds(), o.workers)
	return nil
}
