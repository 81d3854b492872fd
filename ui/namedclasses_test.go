package ui

import (
	"strings"
	"testing"
)

func TestNamedClasses(t *testing.T) {
	n := NewNamedClasses()
	if _, _, _, _, err := n.Layout(); err == nil || !strings.Contains(err.Error(), "0 classes: teaching needs at least 2") {
		t.Errorf("no classes: %v", err)
	}
	for _, name := range []string{"Fish", "dog"} {
		if err := n.AddClass(name); err != nil {
			t.Fatal(err)
		}
	}
	if err := n.AddClass(" DOG "); err == nil || !strings.Contains(err.Error(), `there is a class "dog" already`) {
		t.Errorf("duplicate: %v", err)
	}
	if err := n.AddClass("--"); err == nil || !strings.Contains(err.Error(), "at least one letter or digit") {
		t.Errorf("no letters: %v", err)
	}
	if len(n.Classes) != 2 {
		t.Fatalf("classes %d, want the 2 added", len(n.Classes))
	}
	if added, msg := n.AddFiles(0, []string{"b.jpg", "a.png", "notes.txt", "b.jpg"}, nil); added != 2 ||
		!strings.Contains(msg, "Fish: 2 files not added: notes.txt: not an image file") || !strings.Contains(msg, "b.jpg: the class has a file of that name already") {
		t.Errorf("add files: %d, %q", added, msg)
	}
	// An empty class: said, and nothing is lost.
	if _, _, _, _, err := n.Layout(); err == nil || !strings.Contains(err.Error(), `class "dog" has no images`) {
		t.Errorf("empty class: %v", err)
	}
	if added, msg := n.AddFiles(1, []string{"z.jpg"}, nil); added != 1 || msg != "" {
		t.Errorf("add to dog: %d %q", added, msg)
	}
	folder, paths, byPath, tsv, err := n.Layout()
	if err != nil {
		t.Fatal(err)
	}
	if folder != "my-classes" || strings.Join(paths, " ") != "my-classes/fish/b.jpg my-classes/fish/a.png my-classes/dog/z.jpg" ||
		len(byPath) != 3 || string(tsv) != "fish\tFish\ndog\tdog\n" {
		t.Errorf("layout %q %q %d %q", folder, paths, len(byPath), tsv)
	}
	n.Set = "?"
	if _, _, _, _, err := n.Layout(); err == nil || !strings.Contains(err.Error(), "the set's name") {
		t.Errorf("bad set name: %v", err)
	}
	n.RemoveClass(0)
	if len(n.Classes) != 1 || n.Classes[0].ID != "dog" {
		t.Errorf("after removing Fish: %+v", n.Classes)
	}
}

func TestCameraNames(t *testing.T) {
	cl := &NamedClass{Name: "x", Names: []string{"camera-002.png"}}
	var got []string
	for range 3 {
		got = append(got, cl.cameraName())
	}
	if strings.Join(got, " ") != "camera-001.png camera-003.png camera-004.png" {
		t.Errorf("camera names %q", got)
	}
	n := &NamedClasses{Classes: []*NamedClass{cl}}
	if n.index(cl) != 0 || n.index(&NamedClass{}) != -1 {
		t.Errorf("index")
	}
}
