package ui

import (
	"strings"
	"testing"

	"github.com/bagnetweb/bagnet/protocol"
)

func TestModelCardYours(t *testing.T) {
	site := []protocol.SiteModel{{File: "model.safetensors", Name: "Shipped"}}
	y := Yours{List: []StoredModel{{Key: "k1", Name: "BagNet taught: mine", File: "mine.safetensors", Classes: 3, Bytes: 1000}}}
	c := &ModelCard{Models: site, Info: &protocol.Info{Name: "BagNet taught: mine", Source: "mine.safetensors"}, Yours: y}
	// A user's file in use, not (yet) kept: its own entry.
	if got := c.SiteChoices(); len(got) != 2 || got[1].Name != "BagNet taught: mine (your file)" || !c.IsCurrent(got[1]) {
		t.Errorf("site choices %+v", got)
	}
	yc := c.YourChoices()
	if len(yc) != 1 || yc[0].File != "yours:k1" || c.IsCurrent(yc[0]) {
		t.Errorf("your choices %+v", yc)
	}
	// Kept and in use: only its "Your models" entry, selected.
	c.Yours.Current = "k1"
	if got := c.SiteChoices(); len(got) != 1 || c.IsCurrent(got[0]) || !c.IsCurrent(c.YourChoices()[0]) {
		t.Errorf("kept: site %+v, current %v", got, c.IsCurrent(c.YourChoices()[0]))
	}
	if n := len(c.Choices()); n != 2 {
		t.Errorf("choices %d, want 2", n)
	}
	// Two kept models of the same name and file name: told apart.
	c.Yours.List = append(c.Yours.List, StoredModel{Key: "abcdef0123", Name: "BagNet taught: mine", File: "mine.safetensors"})
	if yc := c.YourChoices(); yc[0].Name != "BagNet taught: mine (mine.safetensors, k1)" || yc[1].Name != "BagNet taught: mine (mine.safetensors, abcdef01)" {
		t.Errorf("same names: %q, %q", yc[0].Name, yc[1].Name)
	}
	if d := (&YourModels{}).Detail(c.Yours.List[1]); d != "your file · 0 classes · 0 B · mine.safetensors · SHA-256 abcdef01…" {
		t.Errorf("detail %q", d)
	}
	p := &StoragePanel{Yours: y.List}
	if got := p.YoursText(); !strings.Contains(got, "Your models: 1 model, ") {
		t.Errorf("storage: %q", got)
	}
	if got := keptText(y.List); !strings.Contains(got, "Your models (1 model, ") || keptText(nil) != "" {
		t.Errorf("kept text %q", got)
	}
}
