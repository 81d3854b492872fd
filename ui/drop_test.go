package ui

import "testing"

func TestDropPath(t *testing.T) {
	for _, tc := range []struct {
		full string
		wrap bool
		want string
	}{
		{"/photos/n01440764/a.jpg", false, "photos/n01440764/a.jpg"}, // one folder: as webkitRelativePath
		{"/photos/loose.jpg", false, "photos/loose.jpg"},
		{"/n01440764/a.jpg", true, "dropped/n01440764/a.jpg"}, // several folders: class folders of "dropped"
		{"/a.jpg", true, "dropped/a.jpg"},                     // a file's entry
		{"a.jpg", true, "dropped/a.jpg"},                      // a file without an entry: its name
	} {
		if got := dropPath(tc.full, tc.wrap); got != tc.want {
			t.Errorf("dropPath(%q, %v) = %q, want %q", tc.full, tc.wrap, got, tc.want)
		}
	}
}
