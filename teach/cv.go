package teach

import "fmt"

// DefaultFolds is the number of folds of CrossValidate that bagnet teach
// uses.
const DefaultFolds = 5

// ClassScore is one class's held-out result.
type ClassScore struct {
	Images  int `json:"images"`  // held-out images of the class
	Correct int `json:"correct"` // of them, classified as the class
}

// Report is a k-fold cross-validation's result: every image is classified
// once, by the quantised head trained without its fold.
type Report struct {
	Folds    int          `json:"folds"`
	Images   int          `json:"images"`
	Correct  int          `json:"correct"`
	PerClass []ClassScore `json:"per_class"`
	// Confusion[t][p] counts images of class t classified as p.
	Confusion [][]int `json:"confusion"`
}

// Accuracy is the fraction of images classified correctly (0 for none).
func (r *Report) Accuracy() float64 {
	if r.Images == 0 {
		return 0
	}
	return float64(r.Correct) / float64(r.Images)
}

// Fold is the fold of each example in CrossValidate: the examples of each
// class, in the order given, are dealt to folds 0, 1, ..., folds-1, 0, ...
// (stratified; give them in a fixed order, e.g. sorted by file name).
func Fold(ex []Example, classes, folds int) []int {
	next := make([]int, classes)
	f := make([]int, len(ex))
	for i, e := range ex {
		f[i] = next[e.Class] % folds
		next[e.Class]++
	}
	return f
}

// CrossValidate measures held-out accuracy by k-fold cross-validation
// (folds >= 2; Fold assigns the folds): for each fold it trains a head on
// the other folds' examples with opt, quantises it, and classifies the
// fold's images (not their mirror images) with the int8 head. A class
// with fewer images than folds is absent from some training sets. It is as
// deterministic as Train.
func CrossValidate(ex []Example, classes, folds int, opt Options) (*Report, error) {
	if folds < 2 {
		return nil, fmt.Errorf("teach: %d folds: want at least 2", folds)
	}
	if _, err := checkExamples(ex, classes); err != nil {
		return nil, err
	}
	if err := opt.check(); err != nil {
		return nil, err
	}
	fold := Fold(ex, classes, folds)
	r := &Report{Folds: folds, PerClass: make([]ClassScore, classes), Confusion: make([][]int, classes)}
	for c := range r.Confusion {
		r.Confusion[c] = make([]int, classes)
	}
	for f := 0; f < folds; f++ {
		var train, test []Example
		for i, e := range ex {
			if fold[i] == f {
				test = append(test, e)
			} else {
				train = append(train, e)
			}
		}
		if len(test) == 0 {
			continue
		}
		if len(train) == 0 {
			return nil, fmt.Errorf("teach: cross-validation needs at least 2 images in some class")
		}
		h, err := Train(train, classes, opt)
		if err != nil {
			return nil, err
		}
		q := h.Quantize()
		for _, e := range test {
			p := Predict(&q, e.Image)
			r.Images++
			r.PerClass[e.Class].Images++
			r.Confusion[e.Class][p]++
			if p == e.Class {
				r.Correct++
				r.PerClass[e.Class].Correct++
			}
		}
	}
	return r, nil
}
