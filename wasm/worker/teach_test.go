package main

import (
	"bytes"
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/bagnetweb/bagnet/preprocess"
	"github.com/bagnetweb/bagnet/protocol"
	"github.com/bagnetweb/bagnet/teach"
	"github.com/bagnetweb/bagnet/weights"
)

// The worker's examples, sent one by one, teach the file teach.Teach makes
// from the same images; reset and a new request start over.
func TestTeachModel(t *testing.T) {
	eng, _ := testEngine(t)
	w := &worker{eng: eng}
	if _, _, err := w.teachModel(&protocol.TeachRequest{Folds: 2}, clock()); err == nil || !strings.Contains(err.Error(), "no examples") {
		t.Fatalf("teach without examples: %v", err)
	}
	imgs := [][]byte{pngBytes(t, 50, 40, 1), pngBytes(t, 40, 50, 2), pngBytes(t, 64, 64, 3), pngBytes(t, 30, 70, 4)}
	class := []int{0, 0, 1, 1}
	mode, err := preprocess.ParseMode(eng.Resize)
	if err != nil {
		t.Fatal(err)
	}
	var want []teach.Example
	if _, err := w.features(imgs[3], 1, false, clock()); err != nil { // forgotten by the reset below
		t.Fatal(err)
	}
	for i, b := range imgs {
		r, err := w.features(b, class[i], i == 0, clock())
		if err != nil || r.Examples != i+1 {
			t.Fatalf("features %d: %+v, %v", i, r, err)
		}
		rgb, _, err := preprocess.Image(b, mode, eng.InputSize)
		if err != nil {
			t.Fatal(err)
		}
		ex, err := teach.Extract(eng.Int8, rgb, eng.InputSize, class[i])
		if err != nil {
			t.Fatal(err)
		}
		want = append(want, ex)
	}
	cls := []protocol.Class{{ID: "a", Name: "ant"}, {ID: "b", Name: "bee"}}
	rep, file, err := w.teachModel(&protocol.TeachRequest{Classes: cls, Name: "BagNet taught: t", Folds: 2}, clock())
	if err != nil {
		t.Fatal(err)
	}
	wfile, err := teach.Teach(eng.Model, want, []weights.Class{{ID: "a", Name: "ant"}, {ID: "b", Name: "bee"}}, "BagNet taught: t", teach.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(file, wfile) {
		t.Errorf("the worker's file (%d bytes) differs from teach.Teach's (%d bytes)", len(file), len(wfile))
	}
	wrep, err := teach.CrossValidate(want, 2, 2, teach.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Folds != 2 || rep.Images != wrep.Images || rep.Correct != wrep.Correct || len(rep.PerClass) != 2 || rep.PerClass[1].Images != wrep.PerClass[1].Images {
		t.Errorf("report %+v, want %+v", rep, wrep)
	}
	for _, tc := range []struct {
		req  protocol.TeachRequest
		want string
	}{
		{protocol.TeachRequest{Classes: cls, Folds: 1}, "folds 1"},
		{protocol.TeachRequest{Classes: cls, Folds: -2}, "folds -2"},
		{protocol.TeachRequest{Classes: cls[:1], Folds: -1}, "teaching:"},
		{protocol.TeachRequest{Classes: cls[:1]}, "held-out accuracy:"},
	} {
		if _, _, err := w.teachModel(&tc.req, clock()); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%+v: got %v, want %q", tc.req, err, tc.want)
		}
	}
	if _, err := w.features([]byte("not an image"), 0, false, clock()); err == nil {
		t.Error("a bad image gave no error")
	}
	if _, err := w.features(imgs[0], -1, false, clock()); err == nil {
		t.Error("class -1 gave no error")
	}
}

// localPooler computes examples with its own worker, as a band worker
// does; fail makes it fail every image, short answer a truncated example.
type localPooler struct {
	w           *worker
	fail, short bool
	n           int // images asked for
}

func (p *localPooler) pool(img []byte, due time.Time) func() (teach.Example, error) {
	p.n++
	ex, _, _, err := p.w.example(img, 0, false, clock())
	return func() (teach.Example, error) {
		switch {
		case p.fail:
			return teach.Example{}, errors.New("band worker: failed on purpose")
		case p.short && err == nil:
			ex.Flip.Sum = ex.Flip.Sum[:1]
		}
		return ex, err
	}
}

// Several images at once, spread over the worker and its band workers
// (some failing), give the examples of one image at a time, in order; a
// bad image is reported by index and the others are kept.
func TestFeaturesMany(t *testing.T) {
	eng, _ := testEngine(t)
	imgs := [][]byte{pngBytes(t, 50, 40, 1), pngBytes(t, 40, 50, 2), []byte("not an image"), pngBytes(t, 64, 64, 3), pngBytes(t, 30, 70, 4), pngBytes(t, 33, 33, 5), pngBytes(t, 70, 20, 6)}
	class := []int{0, 0, 1, 1, 1, 2, 2}
	one := &worker{eng: eng}
	var want []teach.Example
	for i, b := range imgs {
		if _, err := one.features(b, class[i], i == 0, clock()); (err != nil) != (i == 2) {
			t.Fatalf("features %d: %v", i, err)
		}
	}
	want = one.examples
	helper := &worker{eng: eng}
	for _, poolers := range [][]*localPooler{
		nil,
		{{w: helper}},
		{{w: helper}, {w: helper, fail: true}, {w: helper, short: true}},
	} {
		w := &worker{eng: eng}
		var ps []pooler
		for _, p := range poolers {
			ps = append(ps, p)
		}
		// Two requests: the first resets, the second adds.
		r1, err := w.featuresMany(imgs[:4], class[:4], true, ps, clock())
		if err != nil {
			t.Fatal(err)
		}
		r2, err := w.featuresMany(imgs[4:], class[4:], false, ps, clock())
		if err != nil {
			t.Fatal(err)
		}
		if r1.Examples != 3 || r2.Examples != 6 || len(r1.Errors) != 4 || r1.Errors[2] == "" || r1.Errors[0]+r1.Errors[1]+r1.Errors[3] != "" || strings.Join(r2.Errors, "") != "" {
			t.Errorf("%d poolers: replies %+v %+v, want image 2 refused, 6 examples", len(ps), r1, r2)
		}
		if !reflect.DeepEqual(w.examples, want) {
			t.Errorf("%d poolers: the examples differ from one image at a time", len(ps))
		}
		if len(ps) > 0 && poolers[0].n == 0 {
			t.Errorf("%d poolers: the first computed no image", len(ps))
		}
		if len(ps) == 1 && r1.Helped+r2.Helped != 3 { // images 1, 3 and 5 (every second of each request)
			t.Errorf("1 pooler: %d images helped, want 3", r1.Helped+r2.Helped)
		}
	}
	w := &worker{eng: eng}
	if _, err := w.featuresMany(imgs[:2], class[:1], true, nil, clock()); err == nil {
		t.Error("2 images for 1 class gave no error")
	}
	if _, err := w.featuresMany(imgs[:2], []int{0, -1}, true, nil, clock()); err == nil {
		t.Error("class -1 gave no error")
	}
}
