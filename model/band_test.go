package model

import (
	"bytes"
	"fmt"
	"testing"
)

// Feature maps joined from bands (each computed from its own input rows
// only) must equal the full map byte for byte: the basis of running one
// image on several Web Workers.
func TestBandsJoinToFullMap(t *testing.T) {
	for i, arch := range []string{"bagnet9", "bagnet17", "bagnet33"} {
		cfg := Config{Arch: arch, Width: 0.125, Classes: 10}
		q, err := RandomQNet(cfg, uint64(20+i), 64, 2)
		if err != nil {
			t.Fatal(err)
		}
		for _, sz := range [][2]int{{97, 61}, {75, 80}, {128, 128}} {
			h, w := sz[0], sz[1]
			rgb := RandomRGB(h, w, uint64(h*w))
			full, err := q.Features(rgb, h, w)
			if err != nil {
				t.Fatal(err)
			}
			for _, n := range []int{2, 3, 4, 7} {
				t.Run(fmt.Sprintf("%s/%dx%d/%d", arch, w, h, n), func(t *testing.T) {
					var parts []*QMap
					bands := Bands(full.H, n, 1)
					for _, b := range bands {
						p, err := q.FeatureRect(rgb, h, w, b[0], b[1], 0, full.W)
						if err != nil {
							t.Fatal(err)
						}
						if p.H != b[1]-b[0] {
							t.Fatalf("band %v has %d rows", b, p.H)
						}
						parts = append(parts, p)
					}
					joined, err := JoinRows(parts)
					if err != nil {
						t.Fatal(err)
					}
					if joined.H != full.H || joined.W != full.W || !bytes.Equal(joined.Data, full.Data) {
						t.Fatalf("%d bands %v: joined %dx%d map differs from the full %dx%d map", len(bands), bands, joined.W, joined.H, full.W, full.H)
					}
				})
			}
		}
	}
}

func TestBands(t *testing.T) {
	for _, tc := range []struct {
		h, n, min int
		want      string
	}{
		{12, 2, 3, "[[0 6] [6 12]]"},
		{12, 8, 3, "[[0 3] [3 6] [6 9] [9 12]]"},
		{5, 4, 3, "[[0 5]]"},
		{24, 3, 1, "[[0 8] [8 16] [16 24]]"},
		{7, 3, 1, "[[0 2] [2 4] [4 7]]"},
		{1, 4, 4, "[[0 1]]"},
	} {
		if got := fmt.Sprint(Bands(tc.h, tc.n, tc.min)); got != tc.want {
			t.Errorf("Bands(%d, %d, %d) = %s, want %s", tc.h, tc.n, tc.min, got, tc.want)
		}
	}
}

func TestFeatureRectRowErrors(t *testing.T) {
	cfg := Config{Arch: "bagnet9", Width: 0.125, Classes: 3}
	q, err := RandomQNet(cfg, 1, 32, 1)
	if err != nil {
		t.Fatal(err)
	}
	rgb := RandomRGB(40, 40, 1)
	_, mw := q.MapSize(40, 40)
	for _, r := range [][2]int{{-1, 2}, {2, 2}, {0, 99}} {
		if _, err := q.FeatureRect(rgb, 40, 40, r[0], r[1], 0, mw); err == nil {
			t.Errorf("rows %v: no error", r)
		}
	}
	if _, err := JoinRows(nil); err == nil {
		t.Error("JoinRows(nil): no error")
	}
}

// The layout table is the ResNet-50 layout with BagNet's kernels.
func TestLayout(t *testing.T) {
	for _, tc := range []struct {
		arch string
		k3   string // the blocks with a 3x3 conv2
	}{
		{"bagnet9", "[layer1.0 layer2.0]"},
		{"bagnet17", "[layer1.0 layer2.0 layer3.0]"},
		{"bagnet33", "[layer1.0 layer2.0 layer3.0 layer4.0]"},
	} {
		cfg := Config{Arch: tc.arch, Width: 1, Classes: 1000}
		l := cfg.Layout()
		var k3, down []string
		for i, b := range l {
			if b.K == 3 {
				k3 = append(k3, b.Name)
			}
			if b.HasDownsample {
				down = append(down, b.Name)
			}
			if i > 0 && b.In != l[i-1].Out() {
				t.Errorf("%s: %s takes %d channels, %s gives %d", tc.arch, b.Name, b.In, l[i-1].Name, l[i-1].Out())
			}
		}
		if len(l) != 16 || fmt.Sprint(k3) != tc.k3 || fmt.Sprint(down) != "[layer1.0 layer2.0 layer3.0 layer4.0]" ||
			l[15].Out() != 2048 || l[0].Stride != 2 || l[3].Stride != 2 || l[13].Stride != 1 || l[1].Stride != 1 || len(l[0].Convs()) != 4 || len(l[1].Convs()) != 3 {
			t.Errorf("%s: layout %+v", tc.arch, l)
		}
	}
}

// Any block of the final map computed from the pixels its cells see alone
// equals that block of the full map, and pasting it back changes nothing.
func TestFeatureRect(t *testing.T) {
	for i, arch := range []string{"bagnet9", "bagnet17", "bagnet33"} {
		q, err := RandomQNet(Config{Arch: arch, Width: 0.125, Classes: 10}, uint64(40+i), 64, 2)
		if err != nil {
			t.Fatal(err)
		}
		h, w := 97, 81
		rgb := RandomRGB(h, w, 9)
		full, err := q.Features(rgb, h, w)
		if err != nil {
			t.Fatal(err)
		}
		for _, b := range [][4]int{{0, 1, 0, 1}, {0, full.H, 0, full.W}, {1, 3, 2, 5}, {full.H - 1, full.H, 0, 2}, {2, full.H, full.W - 3, full.W}} {
			r0, r1, c0, c1 := b[0], b[1], b[2], b[3]
			blk, err := q.FeatureRect(rgb, h, w, r0, r1, c0, c1)
			if err != nil {
				t.Fatalf("%s %v: %v", arch, b, err)
			}
			if blk.H != r1-r0 || blk.W != c1-c0 {
				t.Fatalf("%s %v: block is %dx%d", arch, b, blk.H, blk.W)
			}
			for r := r0; r < r1; r++ {
				want := full.Data[(r*full.W+c0)*full.C : (r*full.W+c1)*full.C]
				got := blk.Data[(r-r0)*blk.W*blk.C : (r-r0+1)*blk.W*blk.C]
				if !bytes.Equal(got, want) {
					t.Fatalf("%s block %v: row %d differs from the full map", arch, b, r)
				}
			}
			m := &QMap{H: full.H, W: full.W, C: full.C, Data: bytes.Clone(full.Data)}
			if err := m.Paste(blk, r0, c0); err != nil || !bytes.Equal(m.Data, full.Data) {
				t.Fatalf("%s %v: paste: %v", arch, b, err)
			}
		}
		if _, err := q.FeatureRect(rgb, h, w, 0, full.H+1, 0, 1); err == nil {
			t.Error("a block past the map's edge gave no error")
		}
	}
}
