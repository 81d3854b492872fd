package main

import (
	"bytes"
	"encoding/binary"
	"image"
	"image/color"
	"image/png"
	"math"
)

// iconSide is the size of favicon.ico's one image: the 48-unit view box of
// web/icon.svg at one pixel per unit.
const iconSide = 48

// iconColours are web/icon.svg's nine patch colours, row by row.
var iconColours = [9]color.RGBA{
	{0xb2, 0x18, 0x2b, 0xff}, {0xf4, 0xa5, 0x82, 0xff}, {0xf7, 0xf7, 0xf7, 0xff},
	{0xd6, 0x60, 0x4d, 0xff}, {0x67, 0x00, 0x1f, 0xff}, {0x92, 0xc5, 0xde, 0xff},
	{0xfd, 0xdb, 0xc7, 0xff}, {0x43, 0x93, 0xc3, 0xff}, {0x21, 0x66, 0xac, 0xff},
}

// iconBackground is the icon's rounded square (and the patches' stroke).
var iconBackground = color.RGBA{0x1d, 0x4f, 0x7c, 0xff}

// iconImage draws web/icon.svg: a rounded square (corner radius 10) holding
// a 3x3 grid of 12-unit patches from (6, 6), each outlined by a 2-unit
// stroke in the background colour (so 10 units of colour show).
func iconImage() *image.NRGBA {
	img := image.NewNRGBA(image.Rect(0, 0, iconSide, iconSide))
	const r = 10.0
	for y := 0; y < iconSide; y++ {
		for x := 0; x < iconSide; x++ {
			// Coverage of the rounded square, from the pixel centre's
			// distance to the nearest corner circle.
			cx, cy := float64(x)+0.5, float64(y)+0.5
			dx := math.Max(0, math.Max(r-cx, cx-(iconSide-r)))
			dy := math.Max(0, math.Max(r-cy, cy-(iconSide-r)))
			cover := math.Max(0, math.Min(1, r-math.Hypot(dx, dy)+0.5))
			c := iconBackground
			if x >= 7 && x < 41 && y >= 7 && y < 41 {
				px, py := (x-6)/12, (y-6)/12
				if u, v := (x-6)%12, (y-6)%12; u >= 1 && u < 11 && v >= 1 && v < 11 {
					c = iconColours[3*py+px]
				}
			}
			c.A = uint8(math.Round(255 * cover))
			img.SetNRGBA(x, y, color.NRGBA(c))
		}
	}
	return img
}

// favicon is /favicon.ico, which browsers ask for whatever the page's
// <link rel="icon"> says: an ICO file holding one PNG image of the icon.
func favicon() ([]byte, error) {
	var p bytes.Buffer
	if err := png.Encode(&p, iconImage()); err != nil {
		return nil, err
	}
	var b bytes.Buffer
	le := binary.LittleEndian
	binary.Write(&b, le, [3]uint16{0, 1, 1})  // reserved, type 1 (icon), one image
	b.Write([]byte{iconSide, iconSide, 0, 0}) // width, height, no palette, reserved
	binary.Write(&b, le, [2]uint16{1, 32})    // colour planes, bits per pixel
	binary.Write(&b, le, [2]uint32{uint32(p.Len()), 6 + 16})
	b.Write(p.Bytes())
	return b.Bytes(), nil
}
