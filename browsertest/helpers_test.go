package browsertest

import (
	"image"
	"image/color"
	"math"
	"slices"
	"testing"
)

// These tests cover the helpers and run without a browser.

func TestForeignURLs(t *testing.T) {
	const origin = "http://127.0.0.1:4242"
	tests := []struct {
		url     string
		foreign bool
	}{
		{"http://127.0.0.1:4242/", false},
		{"http://127.0.0.1:4242/app.wasm?v=1#x", false},
		{"http://127.0.0.1:4242", false},
		{"blob:http://127.0.0.1:4242/5f0c-11", false},
		{"data:image/png;base64,AAAA", false},
		{"http://127.0.0.1:4243/", true},
		{"https://127.0.0.1:4242/", true},
		{"http://localhost:4242/", true},
		{"http://127.0.0.1/", true},
		{"https://fonts.googleapis.com/css", true},
		{"blob:https://example.com/1", true},
		{"ws://127.0.0.1:4242/", true},
		{"http://user@127.0.0.1:4242/", true},
		{"chrome-extension://abc/x.js", true},
		{"http://[::1", true},
		{"", true},
	}
	var urls, want []string
	for _, tt := range tests {
		urls = append(urls, tt.url)
		if tt.foreign {
			want = append(want, tt.url)
		}
	}
	if got := foreignURLs(origin, urls); !slices.Equal(got, want) {
		t.Errorf("foreignURLs(%q, ...)\n got %q\nwant %q", origin, got, want)
	}
	if got := foreignURLs(origin, nil); got != nil {
		t.Errorf("foreignURLs(%q, nil) = %q, want nil", origin, got)
	}
}

func TestBitDiff(t *testing.T) {
	nan1 := math.Float32frombits(0x7fc00001)
	tests := []struct {
		name      string
		got, want []float32
		same      bool
	}{
		{"equal", []float32{1, -2.5, 3e-30}, []float32{1, -2.5, 3e-30}, true},
		{"empty", nil, []float32{}, true},
		{"one ulp", []float32{1, 2}, []float32{1, math.Nextafter32(2, 3)}, false},
		{"signed zero", []float32{0}, []float32{float32(math.Copysign(0, -1))}, false},
		{"same NaN", []float32{nan1}, []float32{nan1}, true},
		{"NaN payload", []float32{nan1}, []float32{float32(math.NaN())}, false},
		{"length", []float32{1}, []float32{1, 2}, false},
	}
	for _, tt := range tests {
		d := bitDiff(tt.got, tt.want)
		if (d == "") != tt.same {
			t.Errorf("%s: bitDiff(%v, %v) = %q, want same=%v", tt.name, tt.got, tt.want, d, tt.same)
		}
	}
}

func TestDistinctColors(t *testing.T) {
	img := image.NewNRGBA(image.Rect(0, 0, 4, 3))
	if n := distinctColors(img, 10); n != 1 {
		t.Errorf("blank image: %d colours, want 1", n)
	}
	img.Set(1, 1, color.NRGBA{255, 0, 0, 255})
	img.Set(3, 2, color.NRGBA{255, 0, 0, 128})
	if n := distinctColors(img, 10); n != 3 {
		t.Errorf("3-colour image: %d colours, want 3", n)
	}
	if n := distinctColors(img, 2); n != 2 {
		t.Errorf("limit 2: %d colours, want 2", n)
	}
	if n := distinctColors(image.NewNRGBA(image.Rect(0, 0, 0, 0)), 10); n != 0 {
		t.Errorf("empty image: %d colours, want 0", n)
	}
}
