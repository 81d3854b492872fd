package main

import (
	"encoding/gob"
	"fmt"
	"image"
	"os"
	"path/filepath"
	"sort"
	"sync"
	"sync/atomic"

	"github.com/bagnetweb/bagnet/model"
	"github.com/bagnetweb/bagnet/preprocess"
	"github.com/bagnetweb/bagnet/preprocess/imagefile"
	"github.com/bagnetweb/bagnet/teach"
	"github.com/bagnetweb/bagnet/weights"
)

// view is one way of making a model input from a decoded image: the crop
// [x0, x1) x [y0, y1) of the image in fractions of its sides, squashed (or
// cropped, as the model says) to the input size, mirrored or not.
type view struct {
	x0, y0, x1, y1 float64
	mirror         bool
}

// allViews are the views the cache holds: the whole image and its mirror
// image (what teach.Extract computes), then crops of 80% of each side at the
// centre and the four corners, each with its mirror image.
var allViews = func() []view {
	v := []view{{0, 0, 1, 1, false}, {0, 0, 1, 1, true}}
	for _, o := range [][2]float64{{0.1, 0.1}, {0, 0}, {0.2, 0}, {0, 0.2}, {0.2, 0.2}} {
		for _, m := range []bool{false, true} {
			v = append(v, view{o[0], o[1], o[0] + 0.8, o[1] + 0.8, m})
		}
	}
	return v
}()

// item is one image of the data set with its pooled features per view
// (nil for a view not computed).
type item struct {
	Path  string // relative to the data set's root
	Class int
	Views []teach.Pooled
}

// cacheVersion changes when the cache's contents do.
const cacheVersion = 2

// cache is the features of a data set's images.
type cache struct {
	Version int    // cacheVersion
	Weights string // the backbone's SHA-256
	Classes []string
	Train   []item
	Val     []item
}

// listSplit lists the class folders of root/split (sorted) and their images
// (sorted by name).
func listSplit(root, split string) (classes []string, images [][]string, err error) {
	dir := filepath.Join(root, split)
	ents, err := os.ReadDir(dir)
	if err != nil {
		return nil, nil, err
	}
	for _, e := range ents {
		if !e.IsDir() || e.Name()[0] == '.' {
			continue
		}
		fs, err := os.ReadDir(filepath.Join(dir, e.Name()))
		if err != nil {
			return nil, nil, err
		}
		var list []string
		for _, f := range fs {
			if !f.IsDir() && f.Name()[0] != '.' && imagefile.Is(f.Name()) {
				list = append(list, filepath.Join(split, e.Name(), f.Name()))
			}
		}
		sort.Strings(list)
		classes = append(classes, e.Name())
		images = append(images, list)
	}
	return classes, images, nil
}

// input makes the model input of view v of img.
func input(m *weights.Model, img image.Image, v view) ([]uint8, error) {
	src := preprocess.ToRGBA(img)
	b := src.Bounds()
	w, h := b.Dx(), b.Dy()
	x0, x1 := int(v.x0*float64(w)+0.5), int(v.x1*float64(w)+0.5)
	y0, y1 := int(v.y0*float64(h)+0.5), int(v.y1*float64(h)+0.5)
	crop := image.NewRGBA(image.Rect(0, 0, x1-x0, y1-y0))
	for y := y0; y < y1; y++ {
		copy(crop.Pix[(y-y0)*crop.Stride:(y-y0)*crop.Stride+4*(x1-x0)], src.Pix[(y-b.Min.Y)*src.Stride+4*(x0-b.Min.X):])
	}
	mode, err := preprocess.ParseMode(m.Resize)
	if err != nil {
		return nil, err
	}
	rgb, _, err := preprocess.Input(crop, mode, m.InputSize)
	if err != nil {
		return nil, err
	}
	if v.mirror {
		rgb = teach.Mirror(rgb, m.InputSize, m.InputSize)
	}
	return rgb, nil
}

// extract pools the views of the first limit images of each class of
// split (all: limit 0): the first extra images of each class get all
// views, the rest only views 0 and 1 (the image and its mirror image).
func extract(m *weights.Model, root, split string, limit, extra, workers int) ([]string, []item, error) {
	classes, images, err := listSplit(root, split)
	if err != nil {
		return nil, nil, err
	}
	var items []item
	var nviews []int
	for c, list := range images {
		if limit > 0 && len(list) > limit {
			list = list[:limit]
		}
		for j, p := range list {
			n := 2
			if j < extra {
				n = len(allViews)
			}
			items = append(items, item{Path: p, Class: c, Views: make([]teach.Pooled, len(allViews))})
			nviews = append(nviews, n)
		}
	}
	progress := func(done int) {
		if done%250 == 0 {
			fmt.Fprintf(os.Stderr, "%s: %d of %d images\n", split, done, len(items))
		}
	}
	err = eachImage(root, items, workers, progress, func(i int, img image.Image) error {
		for v := 0; v < nviews[i]; v++ {
			f, err := features(m, img, allViews[v])
			if err != nil {
				return err
			}
			items[i].Views[v] = teach.Pool(f)
		}
		return nil
	})
	return classes, items, err
}

// features is the int8 backbone's feature map of view v of img.
func features(m *weights.Model, img image.Image, v view) (*model.QMap, error) {
	rgb, err := input(m, img, v)
	if err != nil {
		return nil, err
	}
	return m.Int8.Features(rgb, m.InputSize, m.InputSize)
}

// eachImage decodes the images of items on workers goroutines and calls do
// with each item's index and image, then progress (if not nil) with the
// number of items done; it returns the first error, naming the image.
func eachImage(root string, items []item, workers int, progress func(done int), do func(i int, img image.Image) error) error {
	var next, done atomic.Int64
	var wg sync.WaitGroup
	var mu sync.Mutex
	var first error
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1) - 1)
				if i >= len(items) {
					return
				}
				err := func() error {
					b, err := preprocess.ReadFile(filepath.Join(root, items[i].Path))
					if err != nil {
						return err
					}
					img, _, err := preprocess.Decode(b)
					if err != nil {
						return err
					}
					return do(i, img)
				}()
				if err != nil {
					mu.Lock()
					if first == nil {
						first = fmt.Errorf("%s: %v", items[i].Path, err)
					}
					mu.Unlock()
				}
				if d := done.Add(1); progress != nil {
					progress(int(d))
				}
			}
		}()
	}
	wg.Wait()
	return first
}

func loadCache(path string) (*cache, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	c := new(cache)
	return c, gob.NewDecoder(f).Decode(c)
}

func saveCache(path string, c *cache) error {
	f, err := os.Create(path + ".tmp")
	if err != nil {
		return err
	}
	if err := gob.NewEncoder(f).Encode(c); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	return os.Rename(path+".tmp", path)
}
