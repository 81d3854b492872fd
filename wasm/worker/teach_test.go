package main

import (
	"bytes"
	"strings"
	"testing"

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
	if _, err := w.features(imgs[3], 1, false); err != nil { // forgotten by the reset below
		t.Fatal(err)
	}
	for i, b := range imgs {
		n, err := w.features(b, class[i], i == 0)
		if err != nil || n != i+1 {
			t.Fatalf("features %d: %d examples, %v", i, n, err)
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
	if _, err := w.features([]byte("not an image"), 0, false); err == nil {
		t.Error("a bad image gave no error")
	}
	if _, err := w.features(imgs[0], -1, false); err == nil {
		t.Error("class -1 gave no error")
	}
}
