package main

import (
	"bytes"
	"flag"
	"fmt"
	"github.com/bagnetweb/bagnet/geom"
	"image"
	"image/draw"
	"image/png"
	"math"

	xdraw "golang.org/x/image/draw"

	"github.com/bagnetweb/bagnet/engine"
	"github.com/bagnetweb/bagnet/heatmap"
	"github.com/bagnetweb/bagnet/preprocess"
	"github.com/bagnetweb/bagnet/protocol"
)

var heatmapCmd = &command{name: "heatmap", opts: func() options { return new(heatmapOpts) },
	summary: "draw a class's patch evidence over the original image, with a legend, as a PNG",
	usage:   "[-weights FILE] [-class NAME|INDEX|WNID] [-alpha A] [-max-side N] [-workers N] -o OUT.png IMAGE"}

type heatmapOpts struct {
	modelOpts
	class   string
	alpha   float64
	maxSide int
	out     string
}

// define adds the command's flags.
func (o *heatmapOpts) define(fs *flag.FlagSet) {
	o.modelFlags(fs, bandWorkers)
	fs.StringVar(&o.class, "class", "", "class to explain: index, WordNet id or name (default: the top-1 class)")
	fs.Float64Var(&o.alpha, "alpha", 0.6, "opacity of the evidence colours over the image, 0 to 1")
	fs.IntVar(&o.maxSide, "max-side", 1024, "scale the image down so its longer side is at most this many pixels")
	fs.StringVar(&o.out, "o", "", "output PNG file")
}

func (o *heatmapOpts) run(e *env, args []string) error {
	path, err := oneArg(args, "image")
	if err != nil {
		return err
	}
	if o.out == "" {
		return usagef("missing -o OUT.png")
	}
	if !(o.alpha >= 0 && o.alpha <= 1) {
		return usagef("-alpha %v out of range [0, 1]", o.alpha)
	}
	if o.maxSide < 16 {
		return usagef("-max-side %d: want at least 16", o.maxSide)
	}
	if err := checkWorkers(o.workers); err != nil {
		return err
	}
	if err := checkOut(o.out); err != nil {
		return err
	}
	eng, wpath, err := loadEngineAt(o.weights)
	if err != nil {
		return err
	}
	eng.UseGoroutines(o.workers)
	c := -1
	if o.class != "" {
		if c, err = resolveClass(eng, o.class, wpath); err != nil {
			return err
		}
	}
	b, err := preprocess.ReadFile(path)
	if err != nil {
		return fileErr(path, err)
	}
	src, _, err := preprocess.Decode(b)
	if err != nil {
		return fileErr(path, err)
	}
	a, err := eng.ClassifyImage(src, 1)
	if err != nil {
		return fileErr(path, err)
	}
	if c < 0 {
		c = a.Top[0].Index
	}
	ev, err := a.Evidence(c)
	if err != nil {
		return fileErr(path, err)
	}

	disp, scale := capSize(src, o.maxSide)
	g := evidenceGrid(a, ev, scale)
	lo, hi, absMax := g.Range()
	over, err := heatmap.Overlay(disp, g, absMax, o.alpha)
	if err != nil {
		return fileErr(path, err)
	}
	cls := eng.Classes[c]
	title := "evidence for " + cls.Name
	legend := heatmap.Legend(over.Rect.Dx(), absMax, lo, hi, title)
	out := image.NewRGBA(image.Rect(0, 0, over.Rect.Dx(), over.Rect.Dy()+legend.Rect.Dy()))
	draw.Draw(out, over.Rect, over, image.Point{}, draw.Src)
	draw.Draw(out, legend.Rect.Add(image.Pt(0, over.Rect.Dy())), legend, image.Point{}, draw.Src)

	var buf bytes.Buffer
	if err := png.Encode(&buf, out); err != nil {
		return fileErr(o.out, err)
	}
	if err := writeFile(o.out, buf.Bytes()); err != nil {
		return err
	}
	probs := engine.Softmax(a.Logits)
	rank := 1
	for _, l := range a.Logits {
		if l > a.Logits[c] {
			rank++
		}
	}
	p := protocol.Prediction{Index: c, ID: cls.ID, Name: cls.Name}
	fmt.Fprintf(e.stdout, "wrote %s (%dx%d): evidence for %s, rank %d, logit %.3f, p %.2f%%; %dx%d patches, evidence from %.3g to %.3g\n",
		o.out, out.Rect.Dx(), out.Rect.Dy(), classLabel(p), rank, a.Logits[c], 100*probs[c], a.Map.W, a.Map.H, lo, hi)
	return nil
}

// capSize scales img down so its longer side is at most maxSide pixels
// and returns it with the scale factor (1 when it already fits).
func capSize(img image.Image, maxSide int) (image.Image, float64) {
	b := img.Bounds()
	long := max(b.Dx(), b.Dy())
	if long <= maxSide {
		return img, 1
	}
	s := float64(maxSide) / float64(long)
	w := max(1, int(math.Round(float64(b.Dx())*s)))
	h := max(1, int(math.Round(float64(b.Dy())*s)))
	dst := image.NewRGBA(image.Rect(0, 0, w, h))
	xdraw.CatmullRom.Scale(dst, dst.Rect, img, b, draw.Src, nil)
	return dst, float64(w) / float64(b.Dx())
}

// evidenceGrid places evidence map ev of analysis a on the source image
// scaled by s: cell centres and the covered area come from the cells'
// receptive fields mapped back to the source (engine.Analysis.CellBoxes).
func evidenceGrid(a *engine.Analysis, ev []float32, s float64) heatmap.Grid {
	_, b00 := a.CellBoxes(0, 0)
	_, b11 := a.CellBoxes(1, 1) // one stride further in both directions; exists even for a 1x1 map
	_, last := a.CellBoxes(a.Map.H-1, a.Map.W-1)
	cx := func(b geom.Rect[float64]) float64 { return (b.X0 + b.X1) / 2 * s }
	cy := func(b geom.Rect[float64]) float64 { return (b.Y0 + b.Y1) / 2 * s }
	return heatmap.Grid{
		Rows: a.Map.H, Cols: a.Map.W, Values: ev,
		X0: cx(b00), Y0: cy(b00),
		DX: cx(b11) - cx(b00), DY: cy(b11) - cy(b00),
		Area: geom.Rect[float64]{X0: b00.X0 * s, Y0: b00.Y0 * s, X1: last.X1 * s, Y1: last.Y1 * s},
	}
}
