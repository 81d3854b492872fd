package main

import (
	"encoding/gob"
	"fmt"
	"image"
	"os"

	"github.com/bagnetweb/bagnet/weights"
)

// mapItem is the final feature maps of an image and its mirror image.
type mapItem struct {
	Path      string
	H, W, C   int
	Map, Flip []uint8
}

// extractMaps computes the maps of items (views 0 and 1).
func extractMaps(m *weights.Model, root string, items []item, workers int) ([]mapItem, error) {
	out := make([]mapItem, len(items))
	err := eachImage(root, items, workers, nil, func(i int, img image.Image) error {
		o := mapItem{Path: items[i].Path}
		for v := 0; v < 2; v++ {
			f, err := features(m, img, allViews[v])
			if err != nil {
				return err
			}
			o.H, o.W, o.C = f.H, f.W, f.C
			if v == 0 {
				o.Map = f.Data
			} else {
				o.Flip = f.Data
			}
		}
		out[i] = o
		return nil
	})
	return out, err
}

func mapsCache(data, wpath string, c *cache, workers int) (map[string]mapItem, error) {
	path := "/tmp/fewshot-maps.gob"
	var list []mapItem
	if f, err := os.Open(path); err == nil {
		err = gob.NewDecoder(f).Decode(&list)
		f.Close()
		if err != nil {
			return nil, err
		}
	} else {
		m, err := weights.LoadFile(wpath)
		if err != nil {
			return nil, err
		}
		a, _ := split(c.Val, 0, 40)
		b, _ := split(c.Train, 0, 60)
		if list, err = extractMaps(m, data, append(a, b...), workers); err != nil {
			return nil, err
		}
		f, err := os.Create(path)
		if err != nil {
			return nil, err
		}
		if err := gob.NewEncoder(f).Encode(list); err != nil {
			return nil, err
		}
		f.Close()
	}
	out := map[string]mapItem{}
	for _, it := range list {
		out[it.Path] = it
	}
	return out, nil
}

// windows returns the pooled means (map units) of the s x s windows of
// a map at stride st.
func windows(data []uint8, H, W, C, s, st int) [][]float64 {
	var out [][]float64
	for y0 := 0; y0+s <= H; y0 += st {
		for x0 := 0; x0+s <= W; x0 += st {
			v := make([]float64, C)
			for y := y0; y < y0+s; y++ {
				for x := x0; x < x0+s; x++ {
					row := data[(y*W+x)*C : (y*W+x+1)*C]
					for k, b := range row {
						v[k] += float64(b)
					}
				}
			}
			for k := range v {
				v[k] /= float64(s * s)
			}
			out = append(out, v)
		}
	}
	return out
}

// subRows makes a matrix of the window means of the items' maps.
func subRows(items []item, mp map[string]mapItem, s, st int) mat {
	var m mat
	for _, it := range items {
		mi := mp[it.Path]
		for _, data := range [][]uint8{mi.Map, mi.Flip} {
			for _, v := range windows(data, mi.H, mi.W, mi.C, s, st) {
				m.x = append(m.x, v...)
				m.y = append(m.y, it.Class)
				m.n++
				m.d = mi.C
			}
		}
	}
	return m
}

func mapsResearch(c *cache, mp map[string]mapItem) {
	for _, it := range mp {
		fmt.Println("map", it.H, it.W, it.C)
		break
	}
	K := len(c.Classes)
	type cfg struct {
		s, st int
		a     float64
		mix   float64 // weight of the window covariance (1: only windows)
	}
	var cfgs []cfg
	for _, a := range []float64{0.5, 0.8} {
		cfgs = append(cfgs, cfg{0, 0, a, 0})
		for _, sw := range [][2]int{{8, 2}, {6, 2}, {4, 2}} {
			for _, mix := range []float64{0.5, 1} {
				cfgs = append(cfgs, cfg{sw[0], sw[1], a, mix})
			}
		}
	}
	for _, g := range cfgs {
		fit := func(tr []item) (head, stdz) {
			m := rowsOf(tr, []int{0, 1})
			s := fitStd(m, "sd")
			z := s.apply(m)
			mu := classMeans(z, K)
			sw := within(z, K)
			if g.mix > 0 {
				zs := s.apply(subRows(tr, mp, g.s, g.st))
				sws := within(zs, K)
				// scale the window covariance to the same trace
				var t1, t2 float64
				for p := 0; p < z.d; p++ {
					t1 += sw[p*z.d+p]
					t2 += sws[p*z.d+p]
				}
				for i := range sw {
					sw[i] = (1-g.mix)*sw[i] + g.mix*sws[i]*t1/t2
				}
			}
			return ldaWith(mu, sw, z.d, K, g.a), s
		}
		var vs float64
		var out string
		for d := 0; d < 4; d++ {
			tr, rest := split(c.Val, 10*d, 10)
			h, s := fit(tr)
			a := h.acc(s.apply(rowsOf(rest, []int{0})))
			vs += a
			out += fmt.Sprintf(" %.1f", a)
		}
		devTest, _ := split(c.Train, 100, 100)
		var ds float64
		for d := 0; d < 4; d++ {
			tr, _ := split(c.Train, 20+10*d, 10)
			h, s := fit(tr)
			ds += h.acc(s.apply(rowsOf(devTest, []int{0})))
		}
		fmt.Printf("%+v val %.2f [%s] dev %.2f\n", g, vs/4, out, ds/4)
	}
}
