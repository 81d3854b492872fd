package teachset

import (
	"reflect"
	"strings"
	"testing"
)

func TestClassID(t *testing.T) {
	for _, tt := range []struct{ name, want string }{
		{"dog", "dog"}, {"Golden Retriever!", "golden-retriever"}, {"  a  b--c ", "a-b-c"},
		{"Ünïcode Äpfel", "ünïcode-äpfel"}, {"R2-D2", "r2-d2"}, {"__x__", "x"}, {"猫", "猫"},
	} {
		if got, err := ClassID(tt.name); err != nil || got != tt.want {
			t.Errorf("ClassID(%q) = %q, %v; want %q", tt.name, got, err, tt.want)
		}
	}
	for _, bad := range []string{"", "  ", "!?-", "\t"} {
		if id, err := ClassID(bad); err == nil {
			t.Errorf("ClassID(%q) = %q, want an error", bad, id)
		}
	}
}

// Named classes list exactly as the folder they stand for: the same
// classes, names and image order as FromPaths of FOLDER/ID/FILE with the
// classes.tsv, whatever the order the classes and files were added in.
func TestNamedPathsLikeFolder(t *testing.T) {
	named := []Named{
		{Name: "Radio", Files: []string{"b.jpg", "a.JPEG", "B.png"}},
		{Name: "golden fish", Files: []string{"z.jpg", "y.webp"}},
		{Name: "dog", Files: []string{"1.jpg"}},
	}
	paths, tsv, err := NamedPaths("mine", named)
	if err != nil {
		t.Fatal(err)
	}
	if want := "radio\tRadio\ngolden-fish\tgolden fish\ndog\tdog\n"; string(tsv) != want {
		t.Errorf("tsv %q, want %q", tsv, want)
	}
	got, err := FromPaths(paths, tsv, 0)
	if err != nil {
		t.Fatal(err)
	}
	want := []Class{
		{ID: "dog", Name: "dog", Images: []string{"mine/dog/1.jpg"}},
		{ID: "golden-fish", Name: "golden fish", Images: []string{"mine/golden-fish/y.webp", "mine/golden-fish/z.jpg"}},
		{ID: "radio", Name: "Radio", Images: []string{"mine/radio/B.png", "mine/radio/a.JPEG", "mine/radio/b.jpg"}},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got %+v\nwant %+v", got, want)
	}
	// The folder itself (as a browser lists it, in any order) gives the same.
	folder := []string{"mine/radio/b.jpg", "mine/dog/1.jpg", "mine/golden-fish/z.jpg", "mine/radio/B.png",
		"mine/golden-fish/y.webp", "mine/radio/a.JPEG", "mine/classes.tsv"}
	if fromFolder, err := FromPaths(folder, tsv, 0); err != nil || !reflect.DeepEqual(fromFolder, want) {
		t.Errorf("the folder: %+v, %v", fromFolder, err)
	}
}

func TestNamedPathsErrors(t *testing.T) {
	for _, tc := range []struct {
		classes []Named
		want    string
	}{
		{[]Named{{Name: "Dog", Files: []string{"a.jpg"}}, {Name: "dog!", Files: []string{"b.jpg"}}}, `classes "Dog" and "dog!": the same class id "dog"`},
		{[]Named{{Name: "dog", Files: []string{"a.jpg"}}, {Name: "cat"}}, `class "cat" has no images: add at least one`},
		{[]Named{{Name: "?!", Files: []string{"a.jpg"}}}, `class "?!": a name needs at least one letter or digit`},
		{[]Named{{Name: "dog", Files: []string{"a.jpg", "a.jpg"}}}, `class "dog": a.jpg is there twice`},
		{[]Named{{Name: "dog", Files: []string{"notes.txt"}}}, `class "dog": notes.txt: not an image file (want .jpg`},
		{[]Named{{Name: "dog", Files: []string{".a.jpg"}}}, `class "dog": .a.jpg: a hidden file`},
		{[]Named{{Name: "dog", Files: []string{"x/a.jpg"}}}, `class "dog": "x/a.jpg": not a plain file name`},
	} {
		_, _, err := NamedPaths("f", tc.classes)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%+v: got %v, want %q", tc.classes, err, tc.want)
		}
	}
	// One class passes here; FromPaths says a folder needs 2.
	paths, tsv, err := NamedPaths("f", []Named{{Name: "dog", Files: []string{"a.jpg"}}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := FromPaths(paths, tsv, 0); err == nil || !strings.Contains(err.Error(), "f: has 1 class folders: teaching needs at least 2") {
		t.Errorf("one class: %v", err)
	}
}
