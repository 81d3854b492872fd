package ui

import (
	"reflect"
	"testing"

	"github.com/bagnetweb/bagnet/protocol"
	"github.com/bagnetweb/bagnet/teachset"
)

func TestTeachPanelText(t *testing.T) {
	cls := []teachset.Class{{ID: "dog", Name: "dog"}, {ID: "fish", Name: "goldfish"}}
	p := &TeachPanel{T: &Teaching{Folder: "mine", Classes: cls, Items: make([]*TeachItem, 5), Done: 5}}
	if got, want := p.ClassRows(), [][5]string{{"dog", "dog", "", "", "-"}, {"fish", "goldfish", "", "", "-"}}; !reflect.DeepEqual(got, want) {
		t.Errorf("rows before the reply: %v, want %v", got, want)
	}
	p.T.Reply = &protocol.TeachReply{Folds: 5, Images: 4, Correct: 3, PerClass: []protocol.TeachScore{{Images: 3, Correct: 3}, {Images: 1, Correct: 0}}}
	if got, want := p.AccuracyText(), "5-fold held-out accuracy: "+Percent(0.75)+" (3 of 4 images)"; got != want {
		t.Errorf("accuracy %q, want %q", got, want)
	}
	if got := p.ClassRows(); got[0][4] != Percent(1) || got[1][3] != "0" || got[1][4] != Percent(0) {
		t.Errorf("rows %v", got)
	}
	p.T.Reply = &protocol.TeachReply{}
	if got := p.AccuracyText(); got != "No held-out accuracy (every class has only one usable image)." {
		t.Errorf("no folds: %q", got)
	}
	p.T.Items = []*TeachItem{{Path: "a"}, {Path: "b", Err: "bad"}}
	if f := p.FailedItems(); len(f) != 1 || f[0].Path != "b" {
		t.Errorf("failed items %v", f)
	}
}
