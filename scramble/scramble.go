// Package scramble cuts a model input into tiles and shuffles them: the
// paper's experiment in which a bag-of-patches model keeps its prediction
// when the image's large-scale structure is destroyed. The worker applies
// it; the page draws the tile grid from the same Tiling.
package scramble

import (
	"fmt"
	"math/rand/v2"
	"slices"
)

// Tiling cuts a Size x Size image into an N x N grid of Tile x Tile tiles,
// centred: the grid starts at pixel Off on both axes and any margin left
// over (less than N pixels on each side) stays where it is.
type Tiling struct {
	Size int `json:"size"`
	Tile int `json:"tile"`
	N    int `json:"n"`
	Off  int `json:"off"`
}

// NewTiling chooses the tiles for the scramble experiment on a size x size
// input seen through patch x patch receptive fields: as many tiles per side
// as fit while every tile stays at least max(patch, size/4) pixels wide, so
// a tile is never smaller than a patch and there are at most 4 per side.
func NewTiling(size, patch int) (Tiling, error) {
	if size <= 0 || patch <= 0 {
		return Tiling{}, fmt.Errorf("scramble: cannot tile a %d-pixel image for %d-pixel patches", size, patch)
	}
	minTile := max(patch, size/4)
	n := size / minTile
	if n < 2 {
		return Tiling{}, fmt.Errorf("scramble: a %d-pixel image holds fewer than 2x2 tiles of %d pixels", size, minTile)
	}
	t := size / n
	return Tiling{Size: size, Tile: t, N: n, Off: (size - n*t) / 2}, nil
}

// Permutation is a seeded random permutation of the N*N tiles that moves at
// least one tile (it is never the identity): tile k of the output comes from
// tile perm[k] of the input, tiles numbered row by row.
func (t Tiling) Permutation(seed uint64) []int {
	n := t.N * t.N
	r := rand.New(rand.NewPCG(seed, 0x5c7a3b1e))
	p := make([]int, n)
	for i := range p {
		p[i] = i
	}
	for {
		r.Shuffle(n, func(a, b int) { p[a], p[b] = p[b], p[a] })
		if n < 2 || !slices.IsSorted(p) {
			return p
		}
	}
}

// Apply rearranges the tiles of a Size x Size RGB image: output tile k is
// input tile perm[k]. The margin outside the grid is copied unchanged.
func (t Tiling) Apply(rgb []uint8, perm []int) ([]uint8, error) {
	s := t.Size
	if len(rgb) != s*s*3 {
		return nil, fmt.Errorf("scramble: image is %d bytes, want %dx%dx3", len(rgb), s, s)
	}
	if len(perm) != t.N*t.N {
		return nil, fmt.Errorf("scramble: permutation of %d tiles, want %d", len(perm), t.N*t.N)
	}
	seen := make([]bool, len(perm))
	for _, k := range perm {
		if k < 0 || k >= len(perm) || seen[k] {
			return nil, fmt.Errorf("scramble: %v is not a permutation", perm)
		}
		seen[k] = true
	}
	out := slices.Clone(rgb)
	for k, src := range perm {
		dy, dx := t.Off+k/t.N*t.Tile, t.Off+k%t.N*t.Tile
		sy, sx := t.Off+src/t.N*t.Tile, t.Off+src%t.N*t.Tile
		for y := 0; y < t.Tile; y++ {
			d := ((dy+y)*s + dx) * 3
			o := ((sy+y)*s + sx) * 3
			copy(out[d:d+t.Tile*3], rgb[o:o+t.Tile*3])
		}
	}
	return out, nil
}
