package teach

import (
	"fmt"
	"strings"

	"github.com/bagnetweb/bagnet/model"
	"github.com/bagnetweb/bagnet/weights"
)

// File makes the taught model file: backbone's int8 network and settings
// (architecture, input size, resizing, normalisation), the head, and the
// given name and classes (one per head output, in order). info is added to
// the file's free-form provenance (it must be the same on every platform
// for the files to be identical: no paths, no times). The backbone's
// feature prior, if any, is kept: a taught model is a backbone too.
func File(backbone *weights.Model, head model.QLinear, name string, classes []weights.Class, info map[string]string) ([]byte, error) {
	if backbone.Int8 == nil {
		return nil, fmt.Errorf("teach: the backbone is a %s model: teaching needs an int8 model (make one with 'bagnet convert')", backbone.DType)
	}
	if err := CheckClasses(classes); err != nil {
		return nil, err
	}
	cfg := backbone.Config
	if head.In != cfg.Features() || head.Out != len(classes) ||
		len(head.Weight) != head.In*head.Out || len(head.Scale) != head.Out || len(head.Bias) != head.Out {
		return nil, fmt.Errorf("teach: the head is %dx%d with %d weights, want %d classes x %d features", head.Out, head.In, len(head.Weight), len(classes), cfg.Features())
	}
	cfg.Classes = len(classes)
	q := model.NewQNetShape(cfg)
	src, dst := backbone.Int8.Tensors(), q.Tensors()
	if len(src) != len(dst) {
		return nil, fmt.Errorf("teach: the backbone has %d tensors, want %d", len(src), len(dst))
	}
	for i, t := range src {
		if strings.HasPrefix(t.Name, model.HeadName+".") {
			continue
		}
		if dst[i].Name != t.Name {
			return nil, fmt.Errorf("teach: backbone tensor %d is %s, want %s", i, t.Name, dst[i].Name)
		}
		if t.I8 != nil {
			*dst[i].I8 = *t.I8
		} else {
			*dst[i].F32 = *t.F32
		}
	}
	q.FC = head
	meta := backbone.Meta
	meta.Name = name
	meta.Config = cfg
	meta.Classes = append([]weights.Class(nil), classes...)
	meta.Info = map[string]string{"backbone": backbone.Name}
	for k, v := range info {
		meta.Info[k] = v
	}
	return weights.Encode(&weights.Model{Meta: meta, Int8: q, Prior: backbone.Prior})
}

// CheckClasses checks a list of taught classes: at least 2, each with a
// non-empty id (unique) and name.
func CheckClasses(classes []weights.Class) error {
	if len(classes) < 2 {
		return fmt.Errorf("teach: %d classes: need at least 2", len(classes))
	}
	seen := map[string]bool{}
	for i, c := range classes {
		switch {
		case strings.TrimSpace(c.ID) == "":
			return fmt.Errorf("teach: class %d has an empty id", i)
		case strings.TrimSpace(c.Name) == "":
			return fmt.Errorf("teach: class %q has an empty name", c.ID)
		case seen[c.ID]:
			return fmt.Errorf("teach: class id %q appears twice", c.ID)
		}
		seen[c.ID] = true
	}
	return nil
}

// Teach trains a head on the examples (Train), quantises it and makes the
// model file (File) named name with the given classes (len(classes) is the
// number of classes; every example's Class indexes it). It is what both
// `bagnet teach` and the page call: the same examples, classes, name and
// options give the same bytes. The backbone's feature prior is used unless
// opt.NoPrior (Options.ForBackbone).
func Teach(backbone *weights.Model, ex []Example, classes []weights.Class, name string, opt Options) ([]byte, error) {
	opt = opt.ForBackbone(backbone)
	if err := CheckClasses(classes); err != nil {
		return nil, err
	}
	if backbone.Int8 == nil {
		return nil, fmt.Errorf("teach: the backbone is a %s model: teaching needs an int8 model (make one with 'bagnet convert')", backbone.DType)
	}
	if _, err := checkExamples(ex, len(classes)); err != nil {
		return nil, err
	}
	count := make([]int, len(classes))
	for _, e := range ex {
		count[e.Class]++
	}
	for c, n := range count {
		if n == 0 {
			return nil, fmt.Errorf("teach: class %q has no images", classes[c].ID)
		}
	}
	if f := backbone.Config.Features(); len(ex[0].Image.Sum) != f {
		return nil, fmt.Errorf("teach: the examples have %d features, the backbone %d: were they extracted with another model?", len(ex[0].Image.Sum), f)
	}
	h, err := Train(ex, len(classes), opt)
	if err != nil {
		return nil, err
	}
	mirror := "with their mirror images"
	if opt.NoMirror {
		mirror = "without mirror images"
	}
	means := "class means"
	if t := opt.threshold(); t > 0 {
		means = fmt.Sprintf("class means soft-thresholded by %g standard errors", t)
	}
	how := fmt.Sprintf("a shrinkage linear discriminant (within-class covariance shrunk %g toward its diagonal, %s, equal class priors)", opt.shrink(), means)
	if opt.Prior != nil {
		how = fmt.Sprintf("a shrinkage linear discriminant (within-class covariance shrunk %g toward the backbone's feature correlation prior, itself shrunk %g toward the identity, scaled by the images' variances; %s, equal class priors)", opt.shrink(), opt.priorShrink(), means)
	}
	if opt.method() == LogReg {
		how = fmt.Sprintf("multinomial logistic regression (L2 %g on standardised features, %d full-batch Nesterov steps)", opt.l2(), opt.steps())
	}
	info := map[string]string{
		"teach": fmt.Sprintf("head taught by %s on the pooled final features of %d images (%s)", how, len(ex), mirror),
	}
	return File(backbone, h.Quantize(), name, classes, info)
}
