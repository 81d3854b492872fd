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
	"math"
	"slices"

	"github.com/bagnetweb/bagnet/ui/viz"
)

// Prediction is one class with its score (the JSON of engine.Prediction).
type Prediction struct {
	Index int     `json:"index"`
	ID    string  `json:"id"`
	Name  string  `json:"name"`
	Logit float32 `json:"logit"`
	Prob  float32 `json:"prob"`
}

// Result mirrors engine.Result, the JSON of `bagnet classify -json` (the
// engine itself is not linked into the UI).
type Result struct {
	Model  string       `json:"model"`
	Top    []Prediction `json:"top"`
	Logits []float32    `json:"logits"`
	Map    struct {
		H int `json:"h"`
		W int `json:"w"`
	} `json:"map"`
}

// Class is one output of the model.
type Class struct {
	ID   string `json:"id"`
	Name string `json:"name"`
}

// ModelInfo is the worker's description of the loaded model.
type ModelInfo struct {
	Name         string            `json:"name"`
	Arch         string            `json:"arch"`
	Width        float64           `json:"width"`
	Classes      []Class           `json:"classes"`
	InputSize    int               `json:"inputSize"`
	Resize       string            `json:"resize"`
	DType        string            `json:"dtype"`
	Patch        int               `json:"patch"`
	Stride       int               `json:"stride"`
	MapH         int               `json:"mapH"`
	MapW         int               `json:"mapW"`
	MACs         int64             `json:"macs"`
	Params       int64             `json:"params"`
	WeightsBytes int               `json:"weightsBytes"`
	Meta         map[string]string `json:"meta"`
	Kernel       string            `json:"kernel"`
}

// Transform is the geometry from the source image to the model input.
type Transform struct {
	Mode     string `json:"mode"`
	Size     int    `json:"size"`
	SrcW     int    `json:"srcW"`
	SrcH     int    `json:"srcH"`
	ResizedW int    `json:"resizedW"`
	ResizedH int    `json:"resizedH"`
	OffX     int    `json:"offX"`
	OffY     int    `json:"offY"`
}

// ToSource maps the half-open model-input box [x0, x1) x [y0, y1) to the
// source image's pixels (rounded outwards and clipped to the image), like
// preprocess.Transform.ToSource. ok is false for an unknown transform.
func (t Transform) ToSource(x0, y0, x1, y1 int) (sx0, sy0, sx1, sy1 int, ok bool) {
	if t.ResizedW <= 0 || t.ResizedH <= 0 || t.SrcW <= 0 || t.SrcH <= 0 {
		return 0, 0, 0, 0, false
	}
	fx := float64(t.SrcW) / float64(t.ResizedW)
	fy := float64(t.SrcH) / float64(t.ResizedH)
	conv := func(v, off int, f float64, lim int, up bool) int {
		p := float64(v+off) * f
		if up {
			p = math.Ceil(p - 1e-9)
		} else {
			p = math.Floor(p + 1e-9)
		}
		return max(0, min(lim, int(p)))
	}
	return conv(x0, t.OffX, fx, t.SrcW, false), conv(y0, t.OffY, fy, t.SrcH, false),
		conv(x1, t.OffX, fx, t.SrcW, true), conv(y1, t.OffY, fy, t.SrcH, true), true
}

// Timings of one request in milliseconds.
type Timings struct {
	DecodeMs     float64 `json:"decode_ms"`
	PreprocessMs float64 `json:"preprocess_ms"`
	InferMs      float64 `json:"infer_ms"`
	EvidenceMs   float64 `json:"evidence_ms"`
}

// ScrambleInfo says how a scrambled input was made.
type ScrambleInfo struct {
	Of   int   `json:"of"`
	Seed int64 `json:"seed"`
	Size int   `json:"size"`
	Tile int   `json:"tile"`
	N    int   `json:"n"`
	Off  int   `json:"off"`
	Perm []int `json:"perm"`
}

// Meta is the JSON part of a worker "result" message.
type Meta struct {
	Result    Result          `json:"result"`
	Bias      map[int]float32 `json:"bias"`
	Transform Transform       `json:"transform"`
	Timings   Timings         `json:"timings"`
	Scramble  *ScrambleInfo   `json:"scramble"`
}

// Analysis is one classified image with its evidence, as the page holds it.
type Analysis struct {
	ID        int
	Label     string // where the image came from, e.g. a file name
	Result    Result
	Maps      map[int][]float32 // evidence maps received so far, by class
	Bias      map[int]float32
	RGB       []uint8 // the model input, InputSize^2 x 3
	Geo       viz.Geometry
	Transform Transform
	Timings   Timings
	Scramble  *ScrambleInfo
	RoundTrip float64 // ms from request to answer, seen by the page
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
func (a *Analysis) CellClasses(c Cell, names []Class, k int) []ClassScore {
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

// Ranked lists every class by decreasing logit.
func (a *Analysis) Ranked(names []Class) []ClassScore {
	if a == nil {
		return nil
	}
	out := make([]ClassScore, len(a.Result.Logits))
	for i, v := range a.Result.Logits {
		out[i] = ClassScore{Index: i, Name: className(names, i), Value: v}
	}
	slices.SortStableFunc(out, func(x, y ClassScore) int {
		switch {
		case x.Value > y.Value:
			return -1
		case x.Value < y.Value:
			return 1
		}
		return 0
	})
	return out
}

// Prob is the softmax probability of class c.
func (a *Analysis) Prob(c int) float64 {
	if a == nil || c < 0 || c >= len(a.Result.Logits) {
		return 0
	}
	m := math.Inf(-1)
	for _, v := range a.Result.Logits {
		m = math.Max(m, float64(v))
	}
	var sum float64
	for _, v := range a.Result.Logits {
		sum += math.Exp(float64(v) - m)
	}
	return math.Exp(float64(a.Result.Logits[c])-m) / sum
}

func className(names []Class, i int) string {
	if i >= 0 && i < len(names) {
		return names[i].Name
	}
	return fmt.Sprintf("class %d", i)
}
