package evalreport

import (
	"reflect"
	"testing"

	"github.com/bagnetweb/bagnet/protocol"
)

var model = []protocol.Class{{ID: "n1", Name: "one"}, {ID: "n2", Name: "two"}, {ID: "n3", Name: "three"}}

func TestPlan(t *testing.T) {
	paths := []string{
		"d/n2/b.JPEG", "d/n2/a.png", "d/n2/sub/c.jpg", "d/n2/.hidden.jpg", "d/n2/notes.txt",
		"d/n1/x.jpeg", "d/.git/y.jpg", "d/zzz/q.jpg", "d/loose.jpg", "d/n3/readme.txt", "d/n1/.h/z.jpg",
	}
	classes, images, skipped := Plan(paths, model)
	wantC := []Class{{"n1", 0, "one"}, {"n2", 1, "two"}, {"n3", 2, "three"}}
	wantI := []Image{{"d/n1/x.jpeg", 0}, {"d/n2/a.png", 1}, {"d/n2/b.JPEG", 1}, {"d/n2/sub/c.jpg", 1}, {"d/loose.jpg", -1}, {"d/zzz/q.jpg", -1}}
	if !reflect.DeepEqual(classes, wantC) {
		t.Errorf("classes = %v, want %v", classes, wantC)
	}
	if !reflect.DeepEqual(images, wantI) {
		t.Errorf("images = %v, want %v", images, wantI)
	}
	if !reflect.DeepEqual(skipped, []string{"zzz"}) {
		t.Errorf("skipped = %v, want [zzz]", skipped)
	}
}

func TestSummarize(t *testing.T) {
	classes := []Class{{"n1", 0, "one"}, {"n3", 2, "three"}}
	rep := Summarize("m", 3, classes, []Result{
		{Row: 0, Top: []int{0, 1}}, {Row: 0, Top: []int{1, 0}}, {Row: 1, Top: []int{1, 2}}, {Row: 1, Failed: true},
	})
	b, err := rep.JSON()
	if err != nil {
		t.Fatal(err)
	}
	want := `{"model":"m","images":3,"errors":1,"top1":0.3333333333333333,"top5":1,"per_class":{"n1":{"name":"one","images":2,"top1":0.5,"top5":1},"n3":{"name":"three","images":1,"top1":0,"top5":1}},"classes":["n1","n3"],"columns":["n1","n3","other"],"confusion":[[1,0,1],[0,0,1]]}` + "\n"
	if string(b) != want {
		t.Errorf("JSON =\n%s\nwant\n%s", b, want)
	}
}
