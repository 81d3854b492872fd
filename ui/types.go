// Package ui is the page's user interface: vugu components (the .vugu
// files; `go generate` turns them into *_gen.go, which are not committed)
// and the Go that drives them. It runs on the page's main thread; the
// network itself runs in a Web Worker (wasm/worker) that this package talks
// to with messages. The pure computations behind the pictures live in
// ui/viz.
package ui

//go:generate go tool vugugen -skip-go-mod -skip-main

import (
	"fmt"
	"slices"

	"github.com/bagnetweb/bagnet/protocol"
	"github.com/bagnetweb/bagnet/ui/viz"
)

// Analysis is one classified image with its evidence, as the page holds it.
type Analysis struct {
	ID        int
	Label     string // where the image came from, e.g. a file name
	Result    protocol.Result
	Maps      map[int][]float32 // evidence maps received so far, by class
	Bias      map[int]float32
	RGB       []uint8 // the model input, InputSize^2 x 3
	Geo       viz.Geometry
	Transform protocol.Transform
	Timings   protocol.Timings
	Scramble  *protocol.Scramble
	Occlusion *protocol.Occlusion // set for an edit of another analysis
	RoundTrip float64             // ms from request to answer, seen by the page

	probs []float64 // softmax of the logits, computed once
	rank  []int     // classes by decreasing logit, computed once
	pics  *pictures // the page's picture cache (Root.pics), nil: none
}

// Cell is a position in the evidence map.
type Cell struct {
	I, J int
	OK   bool // false: no cell
}

// ClassScore is one class's evidence at one cell.
type ClassScore struct {
	Index int
	Name  string
	Value float32
}

// CellClasses ranks the classes whose maps are known by their evidence at
// cell c, best first, at most k of them.
func (a *Analysis) CellClasses(c Cell, names []protocol.Class, k int) []ClassScore {
	if a == nil || !c.OK {
		return nil
	}
	at := c.I*a.Geo.W + c.J
	var out []ClassScore
	for idx, m := range a.Maps {
		if at < len(m) {
			out = append(out, ClassScore{Index: idx, Name: className(names, idx), Value: m[at]})
		}
	}
	slices.SortFunc(out, func(x, y ClassScore) int {
		switch {
		case x.Value > y.Value:
			return -1
		case x.Value < y.Value:
			return 1
		}
		return x.Index - y.Index
	})
	return out[:min(k, len(out))]
}

// Order is the classes by decreasing logit (ties: the lower index),
// computed once per analysis.
func (a *Analysis) Order() []int {
	if a == nil {
		return nil
	}
	if a.rank == nil {
		a.rank = make([]int, len(a.Result.Logits))
		for i := range a.rank {
			a.rank[i] = i
		}
		l := a.Result.Logits
		slices.SortStableFunc(a.rank, func(x, y int) int {
			switch {
			case l[x] > l[y]:
				return -1
			case l[x] < l[y]:
				return 1
			}
			return 0
		})
	}
	return a.rank
}

// Ranked lists every class by decreasing logit.
func (a *Analysis) Ranked(names []protocol.Class) []ClassScore {
	order := a.Order()
	out := make([]ClassScore, len(order))
	for k, i := range order {
		out[k] = ClassScore{Index: i, Name: className(names, i), Value: a.Result.Logits[i]}
	}
	return out
}

// Prob is the softmax probability of class c (all of them are computed on
// the first call, once per analysis: no work per class per render).
func (a *Analysis) Prob(c int) float64 {
	if a == nil || c < 0 || c >= len(a.Result.Logits) {
		return 0
	}
	if a.probs == nil {
		a.probs = protocol.Probs(a.Result.Logits)
	}
	return a.probs[c]
}

// Rank is class c's place by logit, 1 for the top class.
func (a *Analysis) Rank(c int) int {
	for k, i := range a.Order() {
		if i == c {
			return k + 1
		}
	}
	return 0
}

func className(names []protocol.Class, i int) string {
	if i >= 0 && i < len(names) {
		return names[i].Name
	}
	return fmt.Sprintf("class %d", i)
}
