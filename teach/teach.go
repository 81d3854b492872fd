// Package teach trains a new head for a loaded int8 BagNet: "teach your own
// classes". Each image's final feature map is pooled once (Pool: the exact
// integer channel sums the int8 head sees) together with its mirror image's
// (augmentation); a linear head is fitted on the pooled features (Train:
// by default a shrinkage linear discriminant solved exactly, or a
// multinomial logistic regression with an L2 penalty by a fixed number of
// full-batch accelerated gradient steps); the head is quantised into the int8
// engine's head format (model.QLinear) and written with the unchanged
// backbone and the user's class names as a new model file (File).
//
// A head that is linear on the mean of the final map is a BagNet head: every
// patch-evidence map, occlusion and patch list works for the taught classes
// exactly as for the shipped ones.
//
// The same images and Options give byte-identical model files on every
// platform, js/wasm included: features are integers, and every float
// operation that decides a byte is a +, -, *, / or sqrt rounded explicitly
// to float64 (no fused multiply-add), in a fixed order, with the package's
// own exp instead of math.Exp. The package is pure Go and links in js/wasm,
// so the browser produces the same file as `bagnet teach`.
package teach

import (
	"fmt"

	"github.com/bagnetweb/bagnet/model"
)

// Pooled is one image's pooled final feature map: the per-channel sums of
// the uint8 map over its Cells positions. Sum[k]/Cells is the mean feature
// in the map's units (real value: times the channel's scale), exactly what
// the int8 head multiplies (model.QNet.Logits).
type Pooled struct {
	Sum   []int64
	Cells int
}

// Pool sums a final feature map per channel.
func Pool(f *model.QMap) Pooled {
	sum := make([]int64, f.C)
	for i, v := range f.Data {
		sum[i%f.C] += int64(v)
	}
	return Pooled{Sum: sum, Cells: f.H * f.W}
}

// Example is one training image: its class (an index into the taught
// classes) and the pooled features of the image and of its mirror image.
type Example struct {
	Class       int
	Image, Flip Pooled
}

// Mirror returns the h x w RGB image (HWC) flipped left to right.
func Mirror(rgb []uint8, h, w int) []uint8 {
	out := make([]uint8, len(rgb))
	for y := 0; y < h; y++ {
		row := rgb[y*w*3 : (y+1)*w*3]
		dst := out[y*w*3 : (y+1)*w*3]
		for x := 0; x < w; x++ {
			copy(dst[(w-1-x)*3:(w-x)*3], row[x*3:x*3+3])
		}
	}
	return out
}

// Extract runs the backbone q on one model input (n x n RGB bytes, as
// preprocess.Input makes it) and on its mirror image and pools both maps:
// the example of class class. It is safe to call from many goroutines.
func Extract(q *model.QNet, rgb []uint8, n, class int) (Example, error) {
	if len(rgb) != n*n*3 {
		return Example{}, fmt.Errorf("teach: model input is %d bytes, want %dx%dx3", len(rgb), n, n)
	}
	f, err := q.Features(rgb, n, n)
	if err != nil {
		return Example{}, err
	}
	g, err := q.Features(Mirror(rgb, n, n), n, n)
	if err != nil {
		return Example{}, err
	}
	return Example{Class: class, Image: Pool(f), Flip: Pool(g)}, nil
}
