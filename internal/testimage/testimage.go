// Package testimage makes synthetic images for tests.
package testimage

// RGB is an n x n interleaved RGB image whose pixels say where they are:
// red is x, green is y and blue is x XOR y (all modulo 256), so a test can
// tell from any pixel which source pixel it came from.
func RGB(n int) []uint8 {
	rgb := make([]uint8, n*n*3)
	for y := 0; y < n; y++ {
		for x := 0; x < n; x++ {
			p := (y*n + x) * 3
			rgb[p], rgb[p+1], rgb[p+2] = uint8(x), uint8(y), uint8(x^y)
		}
	}
	return rgb
}
