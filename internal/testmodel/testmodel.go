// Package testmodel makes small random-weight BagNet model files for tests
// and for development before a trained model exists. Their predictions are
// meaningless but deterministic.
package testmodel

import (
	"fmt"
	"math/rand/v2"

	"github.com/bagnetweb/bagnet/model"
	"github.com/bagnetweb/bagnet/model/kernel"
	"github.com/bagnetweb/bagnet/weights"
)

// ImagenetteClasses are the 10 Imagenette classes in WordNet-id order.
var ImagenetteClasses = []weights.Class{
	{ID: "n01440764", Name: "tench"}, {ID: "n02102040", Name: "English springer"},
	{ID: "n02979186", Name: "cassette player"}, {ID: "n03000684", Name: "chain saw"},
	{ID: "n03028079", Name: "church"}, {ID: "n03394916", Name: "French horn"},
	{ID: "n03417042", Name: "garbage truck"}, {ID: "n03425413", Name: "gas pump"},
	{ID: "n03445777", Name: "golf ball"}, {ID: "n03888257", Name: "parachute"},
}

// Options for a random model.
type Options struct {
	Arch      string  // default bagnet33
	Width     float64 // default 0.125
	InputSize int     // default 64
	Resize    string  // default squash
	Seed      uint64
	Classes   int             // default 10: the Imagenette classes; more get made-up ids
	ClassList []weights.Class // names of the classes (overrides Classes)
	Calib     int             // calibration images, default 3
	// Kernels run the float network while calibrating (default: the
	// reference kernels; a full-size model wants tensorkernel's BLAS).
	Kernels kernel.Kernels
}

func (o *Options) defaults() {
	if o.Arch == "" {
		o.Arch = "bagnet33"
	}
	if o.Width == 0 {
		o.Width = 0.125
	}
	if o.InputSize == 0 {
		o.InputSize = 64
	}
	if o.Resize == "" {
		o.Resize = "squash"
	}
	if o.Calib == 0 {
		o.Calib = 3
	}
}

// classes are ImagenetteClasses, or n made-up ones when n is not 0 or 10.
func classes(n int) []weights.Class {
	if n == 0 || n == len(ImagenetteClasses) {
		return ImagenetteClasses
	}
	cs := make([]weights.Class, n)
	for i := range cs {
		cs[i] = weights.Class{ID: fmt.Sprintf("n%08d", i), Name: fmt.Sprintf("class %d", i)}
	}
	return cs
}

// Meta returns the metadata a random model file gets.
func Meta(o Options) weights.Meta {
	o.defaults()
	cs := classes(o.Classes)
	if o.ClassList != nil {
		cs = o.ClassList
	}
	imagenetMean, imagenetStd := model.ImageNetNorm()
	return weights.Meta{
		Name:      fmt.Sprintf("random %s width %g (test)", o.Arch, o.Width),
		Config:    model.Config{Arch: o.Arch, Width: o.Width, Classes: len(cs)},
		Classes:   cs,
		InputSize: o.InputSize, Resize: o.Resize,
		Mean: imagenetMean, Std: imagenetStd,
	}
}

// Float returns a random float32 network and its metadata.
func Float(o Options) (*model.Net, weights.Meta, model.StateDict, error) {
	meta := Meta(o)
	sd := model.RandomStateDict(meta.Config, o.Seed)
	n, err := model.NewNet(meta.Config, sd)
	return n, meta, sd, err
}

// Int8 returns the bytes of a random int8 model file, calibrated on random
// images.
func Int8(o Options) ([]byte, error) {
	o.defaults()
	n, meta, _, err := Float(o)
	if err != nil {
		return nil, err
	}
	if o.Kernels != nil {
		n.Kernels = o.Kernels
	}
	var cal model.Calibrator
	n.Observe = cal.Observer()
	r := rand.New(rand.NewPCG(o.Seed, 3))
	s := o.InputSize
	for i := 0; i < o.Calib; i++ {
		img := make([]uint8, s*s*3)
		for j := range img {
			img[j] = uint8(r.IntN(256))
		}
		if _, _, err := n.Forward(model.NormalizedInput(img, s, s, meta.Mean, meta.Std)); err != nil {
			return nil, err
		}
	}
	q, err := model.Quantize(n, meta.Mean, meta.Std, cal.Scales())
	if err != nil {
		return nil, err
	}
	return weights.Encode(&weights.Model{Meta: meta, Int8: q})
}
