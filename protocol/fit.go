package protocol

import (
	"fmt"
	"strconv"
)

// A classifier always names one of its classes, even for an image of none
// of them (a cat for a model of ten Imagenette classes) or of nothing (a
// blank or 1x1-pixel image). FitRule is the one rule the page and the
// command line use to say plainly when no class of the model fits.

// FitRule decides when no class of a model fits an image: the top class's
// probability is low, or no patch gives it strong evidence (a confident
// answer from evidence that is weak everywhere: blank, uniform and tiny
// images), or the image is smaller than one patch.
type FitRule struct {
	// MinProb: a top-class softmax probability below it fits no class.
	MinProb float64
	// MinPeak: when the strongest patch evidence for the top class (the
	// maximum of its evidence map) is below it, no class fits. 0: not
	// checked.
	MinPeak float64
}

// Defaults of FitRule, calibrated on the shipped model (BagNet-33,
// Imagenette's 10 classes). On 983 Imagenette val images (every third,
// native int8 engine; 85.96% right) they flag 9.4% (92: 87 by the
// probability, 5 more by the evidence): 4.4% of those it classifies right
// (37 of 845), 39.9% of those it gets wrong (55 of 138). The top
// probability's 5th percentile is 0.34, the strongest patch's 0.5th
// percentile 12.0. They flag the
// gallery's tabby (36.4%) and orange (31.2%), blank, uniform, noise and
// 1x1 images; not its soccer ball ("chain saw", 64.8%: as confident as
// over a quarter of val, so the page says it from the sample's WordNet id
// instead). TestFitShippedModel checks them.
const (
	// DefaultMinProb10 is MinProb for a 10-class model; with n classes
	// the default is DefaultMinProb10 * 10 / n (so many times the
	// probability of a uniform guess).
	DefaultMinProb10 = 0.40
	// DefaultMinPeak is MinPeak.
	DefaultMinPeak = 12
)

// Metadata keys of a model file that override the defaults (numbers, as
// the model's own calibration found them).
const (
	MetaFitMinProb = "fit_min_prob"
	MetaFitMinPeak = "fit_min_peak"
)

// FitRuleFor is the rule for a model of n classes with file metadata meta:
// its own thresholds when the file has them, else the defaults.
func FitRuleFor(n int, meta map[string]string) FitRule {
	r := FitRule{MinProb: DefaultMinProb10, MinPeak: DefaultMinPeak}
	if n > 0 {
		r.MinProb = min(1, DefaultMinProb10*10/float64(n))
	}
	if v, err := strconv.ParseFloat(meta[MetaFitMinProb], 64); err == nil && v >= 0 && v <= 1 {
		r.MinProb = v
	}
	if v, err := strconv.ParseFloat(meta[MetaFitMinPeak], 64); err == nil && v >= 0 {
		r.MinPeak = v
	}
	return r
}

// Fit is a verdict of FitRule.Judge.
type Fit struct {
	OK  bool   // some class fits
	Why string // when none does: why, in words for the user
}

// Judge applies the rule to an image's top class: its probability, its
// evidence map (nil when not at hand: then only the probability counts),
// the source image's size (0 when unknown) and the model's patch size.
func (r FitRule) Judge(topProb float64, topEvidence []float32, srcW, srcH, patch int) Fit {
	switch {
	case srcW > 0 && srcH > 0 && patch > 0 && (srcW < patch || srcH < patch):
		return Fit{Why: fmt.Sprintf("The image is %d×%d pixels, smaller than one %d×%d patch: there is nothing in it that any class's patches could show.", srcW, srcH, patch, patch)}
	case topProb < r.MinProb:
		return Fit{Why: fmt.Sprintf("No class of this model fits this image well: the best has only %.0f%% (under %.0f%%). It may show something this model was not trained on.", 100*topProb, 100*r.MinProb)}
	}
	if r.MinPeak > 0 && len(topEvidence) > 0 {
		peak := topEvidence[0]
		for _, v := range topEvidence {
			peak = max(peak, v)
		}
		if float64(peak) < r.MinPeak {
			return Fit{Why: fmt.Sprintf("No class of this model fits this image: no patch gives the best class strong evidence (the strongest %.1f, under %.0f). It may be blank or show something this model was not trained on.", peak, r.MinPeak)}
		}
	}
	return Fit{OK: true}
}
