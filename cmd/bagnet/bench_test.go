package main

import (
	"fmt"
	"path/filepath"
	"testing"
)

// BenchmarkWorkers runs whole commands with -workers 1 and 2 (and 4): eval
// of 20 Imagenette val images with the shipped model (images in parallel),
// classify of 4 of them (bands of each image's map in parallel) and convert
// calibrating on 20 of them (images in parallel). The ratio of -workers 1
// to -workers N is the speed-up on N cores.
func BenchmarkWorkers(b *testing.B) {
	dir := evalTree(b, 2)
	imgs, err := findImages(dir)
	if err != nil || len(imgs) < 20 {
		b.Fatalf("%d images, %v", len(imgs), err)
	}
	out := b.TempDir()
	cmds := []struct {
		name string
		args []string
	}{
		{"eval20", []string{"eval", "-json", dir}},
		{"classify4", append([]string{"classify", "-json"}, imgs[:4]...)},
		{"convert-calib20", []string{"convert", "-calib", dir, "-size", "128", "-o", filepath.Join(out, "m.safetensors"), filepath.Join(fixtures, "bagnet33.pth")}},
	}
	for _, c := range cmds {
		for _, w := range []int{1, 2, 4} {
			b.Run(fmt.Sprintf("%s/workers=%d", c.name, w), func(b *testing.B) {
				args := append([]string{c.args[0], "-workers", fmt.Sprint(w)}, c.args[1:]...)
				for b.Loop() {
					var o, e discard
					if code := run(args, &o, &e); code != 0 {
						b.Fatalf("%v: exit %d", args, code)
					}
				}
			})
		}
	}
}

type discard struct{}

func (discard) Write(p []byte) (int, error) { return len(p), nil }
