package ui

import (
	"strings"
	"testing"

	"github.com/bagnetweb/bagnet/evalreport"
	"github.com/bagnetweb/bagnet/patchset"
	"github.com/bagnetweb/bagnet/protocol"
)

// The figure's report counts what 'bagnet patches' counts: in a labelled
// folder the images of its class folders only (loose ones are not
// scanned), the unreadable ones as errors, and an image whose candidates
// did not fit as an error too; the figure's rows follow the class.
func TestPatchRunReport(t *testing.T) {
	classes := []protocol.Class{{ID: "n1", Name: "one"}, {ID: "n2", Name: "two"}}
	b := &Batch{Folder: "photos", Model: "m", Classes: []evalreport.Class{{ID: "n1", Index: 0, Name: "one"}, {ID: "n2", Index: 1, Name: "two"}}}
	for _, it := range []*BatchItem{
		{Path: "photos/n1/a.jpg", Row: 0, Truth: 0, Done: true},
		{Path: "photos/n1/b.jpg", Row: 0, Truth: 0, Done: true, Err: "not an image"},
		{Path: "photos/n2/c.jpg", Row: 1, Truth: 1, Done: true},
		{Path: "photos/n2/d.jpg", Row: 1, Truth: 1, Done: true},
		{Path: "photos/loose.jpg", Row: -1, Truth: -1, Done: true},
		{Path: "photos/n2/e.jpg", Row: 1, Truth: 1}, // not done (cancelled)
	} {
		b.Items = append(b.Items, it)
	}
	p := &PatchRun{batch: b, classes: classes, bad: map[string]string{"photos/n2/d.jpg": "bad candidates"},
		Col: patchset.NewCollection(2, 4, 1, true)}
	g := patchset.Geometry{MapW: 2, Stride: 8, Patch: 33}
	for _, im := range []*patchset.Image{{Path: "photos/n1/a.jpg", Label: 0, LabelID: "n1", LabelName: "one"}, {Path: "photos/n2/c.jpg", Label: 1, LabelID: "n2", LabelName: "two"}} {
		im.Transform = protocol.Transform{SrcW: 64, SrcH: 64, ResizedW: 64, ResizedH: 64}
		w, _ := patchset.Wire(2, 1, func(c int) ([]float32, error) { return []float32{float32(c), 2, -1, 0.5}, nil })
		if err := p.Col.Add(im, g, 4, w); err != nil {
			t.Fatal(err)
		}
	}
	rep := p.Report(0)
	if rep.Images != 2 || rep.Errors != 2 || !rep.Labelled || rep.Class != (patchset.ClassRef{Index: 0, ID: "n1", Name: "one"}) {
		t.Errorf("report header %+v, want 2 images, 2 errors, class n1", rep)
	}
	if len(rep.For) != 1 || rep.For[0].Image != "photos/n1/a.jpg" || len(rep.Distractors) != 1 || rep.Distractors[0].Image != "photos/n2/c.jpg" {
		t.Errorf("lists for, distractors: %v, %v", rep.For, rep.Distractors)
	}
	j, err := rep.JSON()
	if err != nil || !strings.HasPrefix(string(j), `{"model":"m","class":{"index":0,"id":"n1","name":"one"},"images":2,"errors":2,"labelled":true,"for":[{"image":"photos/n1/a.jpg","label":"n1","cell":[0,1],"box":[8,0,41,33],"evidence":2}]`) {
		t.Errorf("JSON %s (%v)", j, err)
	}
	f := &PatchFigure{P: p}
	p.Class = 1
	if s := f.Sections(); len(s) != 3 || s[0].Hits[0].Image != "photos/n2/c.jpg" || !strings.Contains(s[1].Title, "two") {
		t.Errorf("sections of class 1: %+v", s)
	}
	if o := f.Options(); len(o) != 2 || !o[1].Selected || o[0].Selected || o[1].Text != "two (n2)" {
		t.Errorf("options %+v", o)
	}
}
