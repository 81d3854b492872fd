package imagefile

import (
	"strings"
	"testing"
)

func TestIs(t *testing.T) {
	for _, tt := range []struct {
		name string
		want bool
	}{
		{"a.jpg", true}, {"dir/b.JPEG", true}, {"c.Png", true}, {"d.gif", true}, {"e.webp", true},
		{"f.bmp", true}, {"g.tif", true}, {"h.TIFF", true},
		{"i.heic", false}, {"j.txt", false}, {"jpg", false}, {"k.jpg.gz", false}, {"", false},
	} {
		if got := Is(tt.name); got != tt.want {
			t.Errorf("Is(%q) = %v, want %v", tt.name, got, tt.want)
		}
	}
	// Is takes every one of Exts, in any case.
	for _, ext := range Exts() {
		if !Is("x" + strings.ToUpper(ext)) {
			t.Errorf("Exts has %q but Is rejects it in upper case", ext)
		}
	}
}
