package protocol

import (
	"math"

	"github.com/bagnetweb/bagnet/scramble"
)

// Class is one output of a model.
type Class struct {
	ID   string `json:"id"`   // WordNet id, e.g. "n01440764"
	Name string `json:"name"` // human-readable, e.g. "tench"
}

// Prediction is one class with its score.
type Prediction struct {
	Index int     `json:"index"`
	ID    string  `json:"id"`
	Name  string  `json:"name"`
	Logit float32 `json:"logit"`
	Prob  float32 `json:"prob"`
}

// MapSize is the size of the evidence map.
type MapSize struct {
	H int `json:"h"`
	W int `json:"w"`
}

// Result is the JSON of `bagnet classify -json` and of the page's
// window.bagnetResult: the top classes, every logit and the map size.
type Result struct {
	Image  string       `json:"image,omitempty"`
	Model  string       `json:"model"`
	Top    []Prediction `json:"top"`
	Logits []float32    `json:"logits"`
	Map    MapSize      `json:"map"`
}

// Timings of one request, in milliseconds.
type Timings struct {
	DecodeMs     float64 `json:"decode_ms"`
	PreprocessMs float64 `json:"preprocess_ms"`
	InferMs      float64 `json:"infer_ms"`
	EvidenceMs   float64 `json:"evidence_ms"` // the evidence maps sent with a result (worker)
}

// Info describes the loaded model (the "ready" message's info).
type Info struct {
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
	Prior        bool              `json:"prior,omitempty"` // the file carries a feature prior for teaching (weights.Model.Prior)
	Meta         map[string]string `json:"meta,omitempty"` // provenance from the file
	Kernel       string            `json:"kernel"`         // what runs the network, e.g. "WebAssembly SIMD, 2 workers"
	WarmupMs     float64           `json:"warmupMs"`       // the warm-up pass before "ready"
	Source       string            `json:"source"`         // where the model came from: the site's file name or the user's file
}

// Transform is the geometry from the source image to the model input
// (package preprocess's Transform, as sent to the page).
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

// CropShortSide is the length that crop mode resizes the shorter image side
// to for a model input of the given size: round(size*256/224), halves
// rounded up. It is the one definition (preprocess.CropShortSide is this;
// the page's live camera mode crops its frames by it too).
func CropShortSide(size int) int {
	return (2*size*256 + 224) / (2 * 224)
}

// ToSourceF maps the half-open box [x0, x1) x [y0, y1), in model-input
// pixel coordinates, back to source-image pixel coordinates, exactly:
// pixel edges map to pixel edges, so (0, 0, Size, Size) is the whole source
// in squash mode and the centre crop's footprint in crop mode. It is the one
// definition of this geometry (preprocess.Transform.ToSource is this).
func (t Transform) ToSourceF(x0, y0, x1, y1 float64) (sx0, sy0, sx1, sy1 float64) {
	fx := float64(t.SrcW) / float64(t.ResizedW)
	fy := float64(t.SrcH) / float64(t.ResizedH)
	ox, oy := float64(t.OffX), float64(t.OffY)
	return (x0 + ox) * fx, (y0 + oy) * fy, (x1 + ox) * fx, (y1 + oy) * fy
}

// ToSource is ToSourceF in whole source pixels: rounded outwards and
// clipped to the image. ok is false for an unknown transform.
func (t Transform) ToSource(x0, y0, x1, y1 int) (sx0, sy0, sx1, sy1 int, ok bool) {
	if t.ResizedW <= 0 || t.ResizedH <= 0 || t.SrcW <= 0 || t.SrcH <= 0 {
		return 0, 0, 0, 0, false
	}
	f0x, f0y, f1x, f1y := t.ToSourceF(float64(x0), float64(y0), float64(x1), float64(y1))
	down := func(p float64, lim int) int { return max(0, min(lim, int(math.Floor(p+1e-9)))) }
	up := func(p float64, lim int) int { return max(0, min(lim, int(math.Ceil(p-1e-9)))) }
	return down(f0x, t.SrcW), down(f0y, t.SrcH), up(f1x, t.SrcW), up(f1y, t.SrcH), true
}

// Scramble records how a scrambled input was made from an earlier one.
type Scramble struct {
	Of   int   `json:"of"` // id of the original analysis
	Seed int64 `json:"seed"`
	scramble.Tiling
	Perm []int `json:"perm"`
}

// Occlusion records an edit: a rectangle of the model input painted grey
// over analysis Of, and the block of cells recomputed because their
// receptive fields touch it (every other cell was copied unchanged).
type Occlusion struct {
	Of         int    `json:"of"`
	Rect       [4]int `json:"rect"` // x0, y0, x1, y1 in model-input pixels (clipped)
	Rows       [2]int `json:"rows"` // the recomputed block: rows [r0, r1) ...
	Cols       [2]int `json:"cols"` // ... x columns [c0, c1)
	Recomputed int    `json:"recomputed"`
	Workers    int    `json:"workers"` // how many workers shared the recomputation
	Cells      int    `json:"cells"`   // in the whole map
}

// Meta is the JSON part of a "result" message; the evidence maps and the
// model input travel beside it as transferred typed arrays.
type Meta struct {
	Result    Result          `json:"result"`
	Bias      map[int]float32 `json:"bias"`
	Transform Transform       `json:"transform"`
	Timings   Timings         `json:"timings"`
	Scramble  *Scramble       `json:"scramble,omitempty"`
	Occlusion *Occlusion      `json:"occlusion,omitempty"`
}

// SiteInfo is what cmd/mksite tells the page about the site (JSON in
// index.html, read by web/app.js and the UI).
type SiteInfo struct {
	Model   string         `json:"model"`   // the default model's file
	Models  []SiteModel    `json:"models"`  // every model of the site, the default first
	Samples string         `json:"samples"` // the sample gallery's index
	Sizes   map[string]int `json:"sizes"`   // uncompressed byte sizes of the big downloads
}

// SiteModel describes one model of the site for the model picker.
type SiteModel struct {
	File      string `json:"file"` // URL relative to the site root
	Name      string `json:"name"`
	Bytes     int    `json:"bytes"`
	Classes   int    `json:"classes"`
	Arch      string `json:"arch"`
	InputSize int    `json:"inputSize"`
	DType     string `json:"dtype"`
}

// Bench is the answer to a "bench" request (the browser benchmark,
// cmd/benchbrowser): the network's time on a random input, run after run;
// where the time of one run's int8 GEMMs went on the answering worker; and
// the time of occluding a patch-sized square at the centre of the input.
type Bench struct {
	Engine string       `json:"engine"`
	Size   int          `json:"size"`
	MACs   int64        `json:"macs"`
	RunsMs []float64    `json:"runsMs"`
	GEMMs  []GEMMRecord `json:"gemms"` // of one more run, timed call by call: the answering worker's band only
	// RequantMs is the time of that run's requantisations (that worker).
	RequantMs float64 `json:"requantMs"`
	// TimedMs is that run's own time (the timing of every call slows it).
	TimedMs float64 `json:"timedMs"`
	// OccludeMs are the runs of a grey q x q square at the centre, each
	// from the same unedited analysis (int8 models only).
	OccludeMs []float64 `json:"occludeMs,omitempty"`
	// Occlusion is what the last of those recomputed.
	Occlusion *Occlusion `json:"occlusion,omitempty"`
}

// GEMMRecord is one U8I8 GEMM call: m x n x k and its time.
type GEMMRecord struct {
	M, N, K int
	Ms      float64
}

// RGBA converts the packed RGB model input to the opaque RGBA bytes of a
// result's "input" (an ImageData's layout).
func RGBA(rgb []uint8) []uint8 {
	out := make([]uint8, len(rgb)/3*4)
	for s, d := 0, 0; s+2 < len(rgb); s, d = s+3, d+4 {
		out[d], out[d+1], out[d+2], out[d+3] = rgb[s], rgb[s+1], rgb[s+2], 255
	}
	return out
}
