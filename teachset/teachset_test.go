package teachset

import (
	"reflect"
	"strings"
	"testing"
)

func TestFromPaths(t *testing.T) {
	paths := []string{
		"f/radio/b.jpg", "f/dog/x/2.png", "f/radio/a.JPEG", "f/dog/1.jpg",
		"f/fish/.hidden.jpg", "f/fish/z.jpg", "f/fish/notes.txt", "f/loose.jpg",
		"f/.git/c.jpg", "f/classes.tsv",
	}
	got, err := FromPaths(paths, []byte("# names\nfish\tgoldfish\nnone\tunused\n"), 0)
	if err != nil {
		t.Fatal(err)
	}
	want := []Class{
		{ID: "dog", Name: "dog", Images: []string{"f/dog/1.jpg", "f/dog/x/2.png"}},
		{ID: "fish", Name: "goldfish", Images: []string{"f/fish/z.jpg"}},
		{ID: "radio", Name: "radio", Images: []string{"f/radio/a.JPEG", "f/radio/b.jpg"}},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got %+v\nwant %+v", got, want)
	}
	if got, _ := FromPaths(paths, nil, 1); len(got[0].Images) != 1 || got[0].Name != "dog" {
		t.Errorf("limit 1: %+v", got)
	}
}

func TestFromPathsErrors(t *testing.T) {
	for _, tc := range []struct {
		paths []string
		tsv   string
		want  string
	}{
		{[]string{"f/dog/1.jpg", "f/x.jpg"}, "", "f: has 1 class folders: teaching needs at least 2"},
		{[]string{"f/x.jpg"}, "", "f: has 0 class folders"},
		{nil, "", "the chosen folder: has 0 class folders"},
		{[]string{"f/dog/1.jpg", "f/cat/readme.txt", "f/ant/.a.jpg"}, "", "f/ant: no images"},
		{[]string{"f/dog/1.jpg", "f/cat/1.jpg"}, "ok\tfine\nbad line\n", "f/classes.tsv: line 2: want a class id, a tab and a name"},
	} {
		_, err := FromPaths(tc.paths, []byte(tc.tsv), 0)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%v: got %v, want %q", tc.paths, err, tc.want)
		}
	}
}

func TestDefaultName(t *testing.T) {
	if got := DefaultName("mine"); got != "BagNet taught: mine" {
		t.Errorf("DefaultName = %q", got)
	}
}
