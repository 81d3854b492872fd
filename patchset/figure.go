package patchset

import (
	"fmt"
	"image"
	"math"

	"github.com/bagnetweb/bagnet/heatmap"
)

// Figure draws the report's lists as 'bagnet patches' writes its PNG:
// each hit's Tile (tile x tile pixels, set by the caller) with its evidence,
// cell and file name (base names a path) and, among distractors, its
// class. folder names the collection in the title; n and perImage are the
// options the lists were made with.
func Figure(rep *Report, folder string, n, perImage, tile int, base func(string) string) *image.RGBA {
	name := rep.Class.Name
	var absMax float32
	lo, hi := float32(math.Inf(1)), float32(math.Inf(-1))
	section := func(title string, hits []*Hit, showLabel bool) heatmap.PatchSection {
		s := heatmap.PatchSection{Title: title}
		for _, h := range hits {
			absMax = max(absMax, float32(math.Abs(float64(h.Evidence))))
			lo, hi = min(lo, h.Evidence), max(hi, h.Evidence)
			t := heatmap.PatchTile{Img: h.Tile, Evidence: h.Evidence}
			if t.Img == nil {
				t.Img = image.NewRGBA(image.Rect(0, 0, tile, tile))
			}
			t.Lines = []string{fmt.Sprintf("%+.3g (%d,%d)", h.Evidence, h.Cell[0], h.Cell[1]), base(h.Image)}
			if showLabel && h.Label != "" {
				t.Lines = append(t.Lines, h.LabelName)
			}
			s.Tiles = append(s.Tiles, t)
		}
		return s
	}
	where := fmt.Sprintf("%s images", name)
	if !rep.Labelled {
		where = "all images"
	}
	per := ""
	if perImage == 1 {
		per = ", one per image"
	} else {
		per = fmt.Sprintf(", at most %d per image", perImage)
	}
	sections := []heatmap.PatchSection{
		section(fmt.Sprintf("For %s: the %d patches with the most evidence in %s%s", name, len(rep.For), where, per), rep.For, false),
	}
	if rep.Labelled {
		sections = append(sections, section(fmt.Sprintf("Distractors: the %d patches with the most evidence for %s in images of other classes", len(rep.Distractors), name), rep.Distractors, true))
	}
	sections = append(sections, section(fmt.Sprintf("Against %s: the %d most negative patches in %s%s", name, len(rep.Against), where, per), rep.Against, false))
	if absMax == 0 {
		lo, hi = 0, 0
	}
	title := fmt.Sprintf("%s - class %s (%s) - %d images in %s", rep.Model, name, rep.Class.ID, rep.Images, folder)
	perRow := min(8, n)
	return heatmap.Patches(title, sections, tile, perRow, absMax, lo, hi)
}
