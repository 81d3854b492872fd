package main

import (
	"encoding/json"
	"flag"
	"fmt"

	"github.com/bagnetweb/bagnet/engine"
	"github.com/bagnetweb/bagnet/preprocess"
)

var classifyCmd = &command{name: "classify", opts: func() options { return new(classifyOpts) },
	summary: "classify images and print the top classes (-json: one protocol.Result object per line)",
	usage:   "[-weights FILE] [-top K] [-json] [-workers N] IMAGE..."}

type classifyOpts struct {
	modelOpts
	top  int
	json bool
}

// define adds the command's flags.
func (o *classifyOpts) define(fs *flag.FlagSet) {
	o.modelFlags(fs, bandWorkers)
	fs.IntVar(&o.top, "top", 5, "number of classes to show")
	fs.BoolVar(&o.json, "json", false, `print one JSON object per image per line: {"image","model","top":[{"index","id","name","logit","prob"}],"logits","map":{"h","w"}}`)
}

func (o *classifyOpts) run(e *env, args []string) error {
	if len(args) == 0 {
		return usagef("no images given")
	}
	if o.top < 1 {
		return usagef("-top %d: want at least 1", o.top)
	}
	if err := checkWorkers(o.workers); err != nil {
		return err
	}
	eng, err := loadEngine(o.weights)
	if err != nil {
		return err
	}
	eng.UseGoroutines(o.workers)
	failed := false
	for i, path := range args {
		if err := classifyOne(e, o, eng, path, i); err != nil {
			fmt.Fprintf(e.stderr, "bagnet: %s\n", oneLine(fileErr(path, err).Error()))
			failed = true
		}
	}
	if failed {
		return errReported
	}
	return nil
}

func classifyOne(e *env, o *classifyOpts, eng *engine.Engine, path string, i int) error {
	b, err := preprocess.ReadFile(path)
	if err != nil {
		return err
	}
	a, err := eng.Classify(b, o.top)
	if err != nil {
		return err
	}
	r := a.Result
	r.Image = path
	if o.json {
		line, err := json.Marshal(r)
		if err != nil {
			return fmt.Errorf("encoding the result: %v", err)
		}
		_, err = fmt.Fprintf(e.stdout, "%s\n", line)
		return err
	}
	if i > 0 {
		fmt.Fprintln(e.stdout)
	}
	fmt.Fprintf(e.stdout, "%s: %s, %dx%d patches\n", path, r.Model, r.Map.W, r.Map.H)
	for k, p := range r.Top {
		fmt.Fprintf(e.stdout, "%3d. %-40s %6.2f%%  logit %8.3f\n", k+1, classLabel(p), 100*p.Prob, p.Logit)
	}
	return nil
}
