// Package evalreport computes the accuracy report of 'bagnet eval' from
// the classes of a labelled image folder and each image's best classes,
// and encodes it as JSON. The command line and the page (js/wasm) both use
// it, so 'bagnet eval -json DIR' and the page's "Save results (JSON)" of the
// same folder are the same bytes.
//
// Paths: eval lists DIR's images as DIR/CLASS/..., relative to how DIR
// was given; the page sees a chosen folder's files as FOLDER/CLASS/...
// (webkitRelativePath). Plan takes such slash-separated paths: the first
// element is the folder itself, so the page's paths are eval's when it
// runs as 'bagnet eval FOLDER' from the folder's parent. The report holds
// no path, only counts; the paths fix the order of the images.
package evalreport

import (
	"encoding/json"
	"fmt"
	"github.com/bagnetweb/bagnet/preprocess/imagefile"
	"path"
	"sort"
	"strings"

	"github.com/bagnetweb/bagnet/protocol"
)

// Class is one class folder of the data set.
type Class struct {
	ID    string // the folder's name: a WordNet id of the model's classes
	Index int    // in the model's classes
	Name  string
}

// Result is what became of one image: its best classes (the first is the
// top-1), or Failed when it could not be read or decoded.
type Result struct {
	Row    int   // index into the classes of the report
	Top    []int // model class indices, best first
	Failed bool
}

// Report is the result of eval and the JSON that -json prints.
// Accuracies are fractions; they are null for a class without images.
type Report struct {
	Model    string                `json:"model"`
	Images   int                   `json:"images"` // classified (errors excluded)
	Errors   int                   `json:"errors"` // images that could not be read or decoded
	Top1     *float64              `json:"top1"`
	Top5     *float64              `json:"top5"`
	PerClass map[string]ClassScore `json:"per_class"`
	// Classes are the confusion matrix's rows (true classes) in the
	// model's class order; Columns its columns (predicted classes): the same
	// WordNet ids, then "other" (a class of the model that DIR lacks) when
	// the model has more classes than DIR.
	Classes   []string `json:"classes"`
	Columns   []string `json:"columns"`
	Confusion [][]int  `json:"confusion"`
	// Skipped are the folders of DIR not named by a WordNet id of the
	// model's classes: not evaluated.
	Skipped []string `json:"skipped,omitempty"`

	Names        []string `json:"-"` // the class names of the rows
	ModelClasses int      `json:"-"`
	Top1N, Top5N int      `json:"-"` // images right at top-1, in the top 5
}

// ClassScore is one class's line of the report.
type ClassScore struct {
	Name   string   `json:"name"`
	Images int      `json:"images"`
	Top1   *float64 `json:"top1"`
	Top5   *float64 `json:"top5"`
}

func frac(n, d int) *float64 {
	if d == 0 {
		return nil
	}
	f := float64(n) / float64(d)
	return &f
}

// Summarize builds the report of a model labelled model, with
// modelClasses classes, on the images of results (rows index classes, in
// the model's class order).
func Summarize(model string, modelClasses int, classes []Class, results []Result) *Report {
	n := len(classes)
	col := map[int]int{} // model class index -> column
	for r, c := range classes {
		col[c.Index] = r
	}
	cols := n
	if modelClasses > n {
		cols++
	}
	rep := &Report{
		Model: model, PerClass: map[string]ClassScore{}, ModelClasses: modelClasses,
		Confusion: make([][]int, n),
	}
	rowImages, rowTop1, rowTop5 := make([]int, n), make([]int, n), make([]int, n)
	for r, c := range classes {
		rep.Classes = append(rep.Classes, c.ID)
		rep.Names = append(rep.Names, c.Name)
		rep.Confusion[r] = make([]int, cols)
	}
	rep.Columns = append(rep.Columns, rep.Classes...)
	if cols > n {
		rep.Columns = append(rep.Columns, "other")
	}
	for _, j := range results {
		if j.Failed || len(j.Top) == 0 {
			rep.Errors++
			continue
		}
		truth := classes[j.Row].Index
		rep.Images++
		rowImages[j.Row]++
		if j.Top[0] == truth {
			rep.Top1N++
			rowTop1[j.Row]++
		}
		for _, t := range j.Top {
			if t == truth {
				rep.Top5N++
				rowTop5[j.Row]++
				break
			}
		}
		c, ok := col[j.Top[0]]
		if !ok {
			c = n
		}
		rep.Confusion[j.Row][c]++
	}
	rep.Top1, rep.Top5 = frac(rep.Top1N, rep.Images), frac(rep.Top5N, rep.Images)
	for r, id := range rep.Classes {
		rep.PerClass[id] = ClassScore{
			Name: rep.Names[r], Images: rowImages[r],
			Top1: frac(rowTop1[r], rowImages[r]), Top5: frac(rowTop5[r], rowImages[r]),
		}
	}
	return rep
}

// JSON is the report as 'bagnet eval -json' prints it: one line.
func (r *Report) JSON() ([]byte, error) {
	b, err := json.Marshal(r)
	if err != nil {
		return nil, fmt.Errorf("encoding the report: %v", err)
	}
	return append(b, '\n'), nil
}

// Image is one image of a folder to evaluate.
type Image struct {
	Path string // as given to Plan
	Row  int    // index into the plan's classes; -1: not in a class folder eval counts
}

// Plan groups the files of one folder as eval does: paths are
// slash-separated and start with the folder's own name (FOLDER/CLASS/...,
// as a browser's webkitRelativePath). Folders directly inside it named by
// a WordNet id of the model's classes are classes (in the model's class
// order, their images sorted, found at any depth); other folders are
// skipped (sorted names). Hidden files and folders (a name starting with
// '.') and files that are not images (imagefile.Is) are left
// out. Images directly in the folder or in a skipped one come after the
// labelled ones with Row -1: eval does not count them. Unlike eval, Plan
// cannot see an empty folder: it never lists one as a class or skipped.
func Plan(paths []string, model []protocol.Class) (classes []Class, images []Image, skipped []string) {
	byID := map[string]int{}
	for i, c := range model {
		if c.ID != "" {
			byID[c.ID] = i
		}
	}
	inClass := map[string][]string{}
	var loose []string
	seenSkip := map[string]bool{}
	for _, p := range paths {
		parts := strings.Split(p, "/")
		hidden := false
		for _, e := range parts[1:] {
			if strings.HasPrefix(e, ".") {
				hidden = true
			}
		}
		if len(parts) >= 3 && strings.HasPrefix(parts[1], ".") {
			continue // a hidden folder: eval does not see it
		}
		if len(parts) >= 3 {
			if _, ok := byID[parts[1]]; !ok && !seenSkip[parts[1]] {
				seenSkip[parts[1]] = true
				skipped = append(skipped, parts[1])
			} else if _, seen := inClass[parts[1]]; ok && !seen {
				inClass[parts[1]] = nil // a class folder, even without images
			}
		}
		if hidden || !imagefile.Is(path.Base(p)) {
			continue
		}
		if len(parts) >= 3 {
			if _, ok := byID[parts[1]]; ok {
				inClass[parts[1]] = append(inClass[parts[1]], p)
				continue
			}
		}
		loose = append(loose, p)
	}
	for id, imgs := range inClass {
		sort.Strings(imgs)
		classes = append(classes, Class{ID: id, Index: byID[id], Name: model[byID[id]].Name})
	}
	sort.Slice(classes, func(a, b int) bool { return classes[a].Index < classes[b].Index })
	for r, c := range classes {
		for _, p := range inClass[c.ID] {
			images = append(images, Image{Path: p, Row: r})
		}
	}
	sort.Strings(loose)
	for _, p := range loose {
		images = append(images, Image{Path: p, Row: -1})
	}
	sort.Strings(skipped)
	return classes, images, skipped
}
