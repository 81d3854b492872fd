package main

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"flag"
	"fmt"
	"github.com/bagnetweb/bagnet/preprocess/imagefile"
	"io"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"unicode/utf8"

	"github.com/bagnetweb/bagnet/model"
	"github.com/bagnetweb/bagnet/model/kernel/tensorkernel"
	"github.com/bagnetweb/bagnet/preprocess"
	"github.com/bagnetweb/bagnet/protocol"
	"github.com/bagnetweb/bagnet/weights"
	"github.com/bagnetweb/bagnet/weights/imagenet"
	"github.com/bagnetweb/bagnet/weights/pth"
)

// checkImages is how many calibration images convert runs through both the
// float and the int8 network to report their agreement.
const checkImages = 8

var convertCmd = &command{name: "convert", opts: func() options { return new(convertOpts) },
	summary: "convert a PyTorch BagNet checkpoint (.pth or .pth.tar) into a model file, int8 (calibrated on -calib images) or float32 (-float)",
	usage:   "[-arch auto|bagnet9|bagnet17|bagnet33] [-classes FILE|imagenet] [-preprocess squash|crop] [-size N] [-calib DIR] [-calib-n N] [-workers N] [-float] [-name NAME] -o OUT.safetensors IN.pth"}

type convertOpts struct {
	arch, classes, mode, calib, name, out string
	size, calibN, workers                 int
	float                                 bool
}

// define adds the command's flags.
func (o *convertOpts) define(fs *flag.FlagSet) {
	fs.StringVar(&o.arch, "arch", "auto", "expected architecture: auto, bagnet9, bagnet17 or bagnet33 (checked against the checkpoint)")
	fs.StringVar(&o.classes, "classes", "", "class list: 'imagenet' (the 1000 ImageNet classes, built in) or a file of lines 'index<TAB>wnid<TAB>name', 'wnid<TAB>name' or 'wnid name' (default: imagenet for 1000 classes, else 'class 0', 'class 1', ...)")
	fs.StringVar(&o.mode, "preprocess", "crop", "how images map onto the model input: squash (resize the whole image) or crop (resize the short side, take the centre)")
	fs.IntVar(&o.size, "size", 224, "model input size in pixels (square)")
	fs.StringVar(&o.calib, "calib", "", "directory of representative images for int8 calibration (searched recursively)")
	fs.IntVar(&o.calibN, "calib-n", 256, "number of calibration images (an evenly spaced subset of -calib's sorted file list)")
	workersFlag(fs, &o.workers, "calibration images run in parallel (the model file is the same for any number)")
	fs.BoolVar(&o.float, "float", false, "write float32 weights instead of int8")
	fs.StringVar(&o.name, "name", "", "display name stored in the file (default: from the architecture and the checkpoint's name)")
	fs.StringVar(&o.out, "o", "", "output model file (.safetensors)")
}

func (o *convertOpts) run(e *env, args []string) error {
	in, err := oneArg(args, "checkpoint file")
	if err != nil {
		return err
	}
	if o.out == "" {
		return usagef("missing -o OUT.safetensors")
	}
	if o.arch != "auto" {
		if !model.KnownArch(o.arch) {
			return usagef("-arch %q: want auto, bagnet9, bagnet17 or bagnet33", o.arch)
		}
	}
	mode, err := preprocess.ParseMode(o.mode)
	if err != nil {
		return usagef("-preprocess %q: want squash or crop", o.mode)
	}
	if o.size < 1 || o.size > preprocess.MaxSize {
		return usagef("-size %d out of range [1, %d]", o.size, preprocess.MaxSize)
	}
	if o.float && o.calib != "" {
		return usagef("-calib is for int8 models; -float needs none")
	}
	if !o.float && o.calib == "" {
		return usagef("int8 needs -calib DIR of representative images (or -float for float32 weights)")
	}
	if o.calibN < 1 {
		return usagef("-calib-n %d: want at least 1", o.calibN)
	}
	if err := checkWorkers(o.workers); err != nil {
		return err
	}

	sd, err := pth.Load(in)
	if err != nil {
		return fileErr(in, err)
	}
	cfg, err := model.DetectConfig(sd)
	if err != nil {
		return fileErr(in, err)
	}
	if o.arch != "auto" && o.arch != cfg.Arch {
		return fileErrf(in, "checkpoint is a %s, not a %s (-arch)", cfg.Arch, o.arch)
	}
	if o.size < cfg.Patch() {
		return usagef("-size %d is smaller than %s's %d-pixel patch", o.size, cfg.Arch, cfg.Patch())
	}
	classes, err := o.loadClasses(cfg.Classes)
	if err != nil {
		return err
	}
	net, err := model.NewNet(cfg, sd)
	if err != nil {
		return fileErr(in, err)
	}
	net.Kernels = tensorkernel.Kernels{}

	sum, err := fileSHA256(in)
	if err != nil {
		return fileErr(in, err)
	}
	if err := pth.CheckHubHash(in, sum); err != nil {
		fmt.Fprintf(e.stderr, "bagnet: warning: %s: %s\n", in, err)
	}
	base := filepath.Base(in)
	dtype := weights.Int8
	if o.float {
		dtype = weights.Float32
	}
	imagenetMean, imagenetStd := model.ImageNetNorm()
	meta := weights.Meta{
		Name:      o.name,
		Config:    cfg,
		Classes:   classes,
		InputSize: o.size,
		Resize:    string(mode),
		Mean:      imagenetMean,
		Std:       imagenetStd,
		Info: map[string]string{
			"source":        base,
			"source_sha256": sum,
			"converted_by":  "bagnet convert",
		},
	}
	if meta.Name == "" {
		stem := strings.TrimSuffix(strings.TrimSuffix(base, ".tar"), filepath.Ext(strings.TrimSuffix(base, ".tar")))
		meta.Name = fmt.Sprintf("BagNet-%d %s (%s)", cfg.Patch(), stem, dtype)
	}

	var data []byte
	var report string
	if o.float {
		data, err = weights.EncodeStateDict(meta, sd)
		if err != nil {
			return fileErr(in, err)
		}
	} else {
		q, check, n, err := o.quantize(e, net, meta)
		if err != nil {
			return err
		}
		meta.Info["calib_images"] = strconv.Itoa(n)
		meta.Info["calib_check"] = check
		report = fmt.Sprintf("calibrated on %d images from %s; int8 vs float32 on %s\n", n, o.calib, check)
		data, err = weights.Encode(&weights.Model{Meta: meta, Int8: q})
		if err != nil {
			return fileErr(o.out, err)
		}
	}
	// Read the file back as every consumer will, before writing it out.
	if _, err := weights.Load(data); err != nil {
		return fileErrf(o.out, "the converted model does not load back: %v", err)
	}
	if err := writeFile(o.out, data); err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "wrote %s: %s width %g, %d classes, %s, %dx%d %s input, %.1f MB\n",
		o.out, cfg.Arch, cfg.Width, cfg.Classes, dtype, o.size, o.size, mode, float64(len(data))/1e6)
	fmt.Fprint(e.stdout, report)
	return nil
}

// quantize calibrates net on the -calib images and returns the int8
// network, a note on how well it agrees with the float one and the number
// of calibration images used.
func (o *convertOpts) quantize(e *env, net *model.Net, meta weights.Meta) (*model.QNet, string, int, error) {
	paths, err := findImages(o.calib)
	if err != nil {
		return nil, "", 0, err
	}
	if len(paths) == 0 {
		return nil, "", 0, fileErrf(o.calib, "no images found (looked for %s files)", extList())
	}
	paths = spread(paths, o.calibN)
	mode := preprocess.Mode(meta.Resize)
	size := meta.InputSize
	var checks []sample
	checkAt := map[int]bool{}
	for _, i := range spread(indices(len(paths)), checkImages) {
		checkAt[i] = true
	}

	// The images run in parallel; the calibrator keeps per-channel maxima,
	// which do not depend on the order the images come in, so the scales
	// (and the file) are the same for any number of workers.
	var cal model.Calibrator
	var mu sync.Mutex
	observe := cal.Observer()
	net.Observe = func(name string, m *model.Map) {
		mu.Lock()
		defer mu.Unlock()
		observe(name, m)
	}
	defer func() { net.Observe = nil }()
	samples := make([]sample, len(paths))
	errs := make([]error, len(paths))
	var firstErr atomic.Int64 // the lowest index that failed so far; later images are skipped
	firstErr.Store(int64(len(paths)))
	forEach(e.stderr, "calibrating", len(paths), o.workers, func(i int) {
		if int64(i) > firstErr.Load() {
			return
		}
		s, err := calibrate(net, paths[i], mode, size, meta)
		if checkAt[i] {
			samples[i] = s // only the checked images are kept
		}
		if errs[i] = err; err != nil {
			for {
				cur := firstErr.Load()
				if int64(i) >= cur || firstErr.CompareAndSwap(cur, int64(i)) {
					break
				}
			}
		}
	})
	if i := firstErr.Load(); i < int64(len(paths)) {
		return nil, "", 0, fileErr(paths[i], errs[i])
	}
	for i := range paths {
		if checkAt[i] {
			checks = append(checks, samples[i])
		}
	}
	q, err := model.Quantize(net, meta.Mean, meta.Std, cal.Scales())
	if err != nil {
		return nil, "", 0, fileErr(o.calib, err)
	}

	agree := 0
	var maxDiff, scale float64
	for _, s := range checks {
		f, err := q.Features(s.rgb, size, size)
		if err != nil {
			return nil, "", 0, fileErr(o.calib, err)
		}
		ql := q.Logits(f)
		if model.Argmax(ql) == model.Argmax(s.logits) {
			agree++
		}
		for c := range ql {
			maxDiff = math.Max(maxDiff, math.Abs(float64(ql[c]-s.logits[c])))
			scale = math.Max(scale, math.Abs(float64(s.logits[c])))
		}
	}
	check := fmt.Sprintf("%d of them: top-1 agrees on %d/%d, max |logit difference| %.3g (largest |logit| %.3g)",
		len(checks), agree, len(checks), maxDiff, scale)
	return q, check, len(paths), nil
}

// sample is a calibration image's model input and float logits.
type sample struct {
	rgb    []uint8
	logits []float32
}

// calibrate runs one calibration image through the float network (whose
// Observe hook collects the activation ranges).
func calibrate(net *model.Net, path string, mode preprocess.Mode, size int, meta weights.Meta) (sample, error) {
	b, err := preprocess.ReadFile(path)
	if err != nil {
		return sample{}, err
	}
	rgb, _, err := preprocess.Image(b, mode, size)
	if err != nil {
		return sample{}, err
	}
	logits, _, err := net.Forward(model.NormalizedInput(rgb, size, size, meta.Mean, meta.Std))
	if err != nil {
		return sample{}, err
	}
	return sample{rgb, logits}, nil
}

func indices(n int) []int {
	r := make([]int, n)
	for i := range r {
		r[i] = i
	}
	return r
}

// extList lists the image file extensions for messages.
func extList() string {
	return strings.Join(imagefile.Exts(), ", ")
}

func fileSHA256(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// loadClasses reads -classes, or picks the default names for n classes:
// the built-in ImageNet list for 1000 (and for -classes imagenet).
func (o *convertOpts) loadClasses(n int) ([]weights.Class, error) {
	path := o.classes
	if path == imagenet.Name || (path == "" && n == imagenet.Len) {
		if n != imagenet.Len {
			return nil, usagef("-classes imagenet lists %d classes, the checkpoint's head has %d outputs", imagenet.Len, n)
		}
		return imagenet.Classes(), nil
	}
	if path == "" {
		cs := make([]weights.Class, n)
		for i := range cs {
			cs[i].Name = fmt.Sprintf("class %d", i)
		}
		return cs, nil
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fileErr(path, err)
	}
	cs, err := parseClasses(b)
	if err != nil {
		return nil, fileErr(path, err)
	}
	if len(cs) != n {
		return nil, fileErrf(path, "lists %d classes, the checkpoint's head has %d outputs", len(cs), n)
	}
	return cs, nil
}

// parseClasses reads a class list. Each non-empty line that does not start
// with '#' is "index<TAB>wnid<TAB>name" (the index must count up from 0),
// "wnid<TAB>name" or "wnid name" (split at the first space).
func parseClasses(b []byte) ([]weights.Class, error) {
	if !utf8.Valid(b) {
		return nil, fmt.Errorf("not a text class list (invalid UTF-8)")
	}
	var cs []weights.Class
	seen := map[string]int{}
	sc := bufio.NewScanner(bytes.NewReader(b))
	sc.Buffer(make([]byte, 64*1024), 1024*1024)
	line := 0
	for sc.Scan() {
		line++
		s := strings.TrimSpace(strings.TrimSuffix(sc.Text(), "\r"))
		if s == "" || strings.HasPrefix(s, "#") {
			continue
		}
		var c weights.Class
		f := strings.Split(s, "\t")
		switch len(f) {
		case 3:
			i, err := strconv.Atoi(strings.TrimSpace(f[0]))
			if err != nil || i != len(cs) {
				return nil, fmt.Errorf("line %d: index %q, want %d", line, f[0], len(cs))
			}
			c = weights.Class{ID: f[1], Name: f[2]}
		case 2:
			c = weights.Class{ID: f[0], Name: f[1]}
		case 1:
			id, name, _ := strings.Cut(s, " ")
			c = weights.Class{ID: id, Name: name}
		default:
			return nil, fmt.Errorf("line %d: %d tab-separated fields, want 1 to 3", line, len(f))
		}
		c.ID, c.Name = strings.TrimSpace(c.ID), strings.TrimSpace(c.Name)
		if c.ID == "" || strings.ContainsAny(c.ID, " \t") {
			return nil, fmt.Errorf("line %d: no class id", line)
		}
		if c.Name == "" {
			c.Name = c.ID
		}
		if prev, ok := seen[c.ID]; ok {
			return nil, fmt.Errorf("line %d: class id %s repeats line %d", line, c.ID, prev)
		}
		seen[c.ID] = line
		cs = append(cs, c)
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	if len(cs) == 0 {
		return nil, fmt.Errorf("no classes listed")
	}
	return cs, nil
}

// classLabel is "name (wnid)" or just the name.
func classLabel(p protocol.Prediction) string {
	if p.ID == "" {
		return p.Name
	}
	return fmt.Sprintf("%s (%s)", p.Name, p.ID)
}
