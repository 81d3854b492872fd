package weights

import (
	"fmt"

	"github.com/bagnetweb/bagnet/internal/kinderr"
	"github.com/bagnetweb/bagnet/weights/safetensors"
)

// PriorName is the tensor of an int8 model file that holds its prior: the
// within-class correlation of the backbone's pooled features (see
// Model.Prior). It is optional; a file without it has no prior.
const PriorName = "prior.corr"

// PriorOne is the value of a correlation of 1 in a prior: entries are
// correlations in units of 1/PriorOne.
const PriorOne = 127

// PriorLen is the number of entries of a prior over c features: the lower
// triangle with the diagonal, row by row.
func PriorLen(c int) int { return c * (c + 1) / 2 }

// CheckPrior checks a prior over c features: PriorLen(c) entries, each a
// correlation in [-PriorOne, PriorOne], every diagonal entry PriorOne.
func CheckPrior(p []int8, c int) error {
	if len(p) != PriorLen(c) {
		return fmt.Errorf("the feature prior has %d entries, want %d (the lower triangle of a %dx%d correlation matrix)", len(p), PriorLen(c), c, c)
	}
	i := 0
	for r := 0; r < c; r++ {
		for q := 0; q <= r; q++ {
			v := p[i]
			switch {
			case r == q && v != PriorOne:
				return fmt.Errorf("the feature prior's diagonal entry %d is %d, want %d (a correlation of 1)", r, v, PriorOne)
			case v < -PriorOne:
				return fmt.Errorf("the feature prior's entry (%d,%d) is %d, below -%d", r, q, v, PriorOne)
			}
			i++
		}
	}
	return nil
}

// readPrior reads the optional prior of an int8 file over c features (nil
// when the file has none).
func readPrior(f *safetensors.File, c int) ([]int8, error) {
	if !f.Has(PriorName) {
		return nil, nil
	}
	p, err := f.I8(PriorName, []int{PriorLen(c)})
	if err != nil {
		return nil, err
	}
	if err := CheckPrior(p, c); err != nil {
		return nil, &kinderr.Error{Kind: ErrCorrupt, Msg: "corrupt BagNet model file: " + err.Error()}
	}
	return p, nil
}
