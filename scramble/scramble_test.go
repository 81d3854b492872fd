package scramble

import (
	"slices"
	"testing"

	"github.com/bagnetweb/bagnet/internal/testimage"
)

func TestNewTiling(t *testing.T) {
	tests := []struct {
		size, patch int
		want        Tiling
		ok          bool
	}{
		{128, 33, Tiling{Size: 128, Tile: 42, N: 3, Off: 1}, true},
		{224, 33, Tiling{Size: 224, Tile: 56, N: 4, Off: 0}, true}, // size/4 wins
		{128, 9, Tiling{Size: 128, Tile: 32, N: 4, Off: 0}, true},
		{100, 17, Tiling{Size: 100, Tile: 25, N: 4, Off: 0}, true},
		{130, 33, Tiling{Size: 130, Tile: 43, N: 3, Off: 0}, true},
		{64, 33, Tiling{}, false}, // one tile per side: nothing to shuffle
		{0, 33, Tiling{}, false},
		{128, 0, Tiling{}, false},
	}
	for _, tt := range tests {
		got, err := NewTiling(tt.size, tt.patch)
		if (err == nil) != tt.ok || got != tt.want {
			t.Errorf("NewTiling(%d, %d) = %+v, %v; want %+v, ok=%v", tt.size, tt.patch, got, err, tt.want, tt.ok)
			continue
		}
		if tt.ok && (got.Tile < tt.patch || got.N*got.Tile > tt.size || got.N > 4) {
			t.Errorf("NewTiling(%d, %d) = %+v breaks its constraints", tt.size, tt.patch, got)
		}
	}
}

func TestPermutation(t *testing.T) {
	tl, _ := NewTiling(128, 33)
	distinct := map[string]bool{}
	for seed := uint64(0); seed < 50; seed++ {
		p := tl.Permutation(seed)
		s := slices.Sorted(slices.Values(p))
		for i, v := range s {
			if v != i {
				t.Fatalf("seed %d: %v is not a permutation of 0..%d", seed, p, tl.N*tl.N-1)
			}
		}
		if slices.IsSorted(p) {
			t.Fatalf("seed %d: identity permutation", seed)
		}
		if !slices.Equal(p, tl.Permutation(seed)) {
			t.Fatalf("seed %d: not deterministic", seed)
		}
		distinct[fmtInts(p)] = true
	}
	if len(distinct) < 40 {
		t.Errorf("50 seeds gave only %d distinct permutations", len(distinct))
	}
}

func fmtInts(p []int) string {
	b := make([]byte, len(p))
	for i, v := range p {
		b[i] = byte(v)
	}
	return string(b)
}

func TestTilingApply(t *testing.T) {
	for _, tc := range []struct{ size, patch int }{{128, 33}, {130, 33}, {100, 17}} {
		tl, err := NewTiling(tc.size, tc.patch)
		if err != nil {
			t.Fatal(err)
		}
		n := tc.size
		// Every pixel is unique: (x, y, x+y) identifies it for n < 256.
		rgb := testimage.RGB(n)
		for y := 0; y < n; y++ {
			for x := 0; x < n; x++ {
				rgb[(y*n+x)*3+2] = uint8((x + 3*y) % 251)
			}
		}
		perm := tl.Permutation(7)
		out, err := tl.Apply(rgb, perm)
		if err != nil {
			t.Fatal(err)
		}
		for y := 0; y < n; y++ {
			for x := 0; x < n; x++ {
				sx, sy := x, y // margin: unchanged
				gx, gy := x-tl.Off, y-tl.Off
				if gx >= 0 && gy >= 0 && gx < tl.N*tl.Tile && gy < tl.N*tl.Tile {
					k := gy/tl.Tile*tl.N + gx/tl.Tile
					src := perm[k]
					sx = tl.Off + src%tl.N*tl.Tile + gx%tl.Tile
					sy = tl.Off + src/tl.N*tl.Tile + gy%tl.Tile
				}
				d, s := (y*n+x)*3, (sy*n+sx)*3
				if !slices.Equal(out[d:d+3], rgb[s:s+3]) {
					t.Fatalf("%+v: output (%d,%d) = %v, want input (%d,%d) = %v", tl, x, y, out[d:d+3], sx, sy, rgb[s:s+3])
				}
			}
		}
		if slices.Equal(out, rgb) {
			t.Errorf("%+v: scrambled image equals the input", tl)
		}
	}
}

func TestTilingApplyErrors(t *testing.T) {
	tl, _ := NewTiling(128, 33)
	rgb := testimage.RGB(128)
	for _, tt := range []struct {
		name string
		rgb  []uint8
		perm []int
	}{
		{"short image", rgb[:99], tl.Permutation(1)},
		{"short permutation", rgb, []int{0, 1}},
		{"repeated tile", rgb, []int{0, 0, 1, 2, 3, 4, 5, 6, 7}},
		{"tile out of range", rgb, []int{0, 1, 2, 3, 4, 5, 6, 7, 9}},
	} {
		if _, err := tl.Apply(tt.rgb, tt.perm); err == nil {
			t.Errorf("%s: no error", tt.name)
		}
	}
}
