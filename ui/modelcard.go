package ui

import (
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/vugu/vugu"
	"github.com/vugu/vugu/js"

	"github.com/bagnetweb/bagnet/protocol"
)

// ModelCard describes the model in use and changes it: the site's models
// in a picker (with the download's progress), the user's own file, what is
// stored for offline use, and the class list of small models.
type ModelCard struct {
	Info      *protocol.Info
	Models    []protocol.SiteModel
	Loaded    int // models loaded so far (the storage panel looks again)
	Busy      bool
	Switching string   // the site model being downloaded, "" when none
	Progress  Progress // its download
	OnPick    func(file string)
	OnFile    func(label string, file js.Value)

	Yours         Yours // the user's models kept in this browser (yours.go)
	OnSaveYours   func(key string)
	OnDeleteYours func(key string)

	ClassesOpen bool // "All classes" is open (vugu re-renders the attribute)
}

// OnClassesSummary opens or closes "All classes" (the state decides, not
// the browser: vugu sets the attributes of every render).
func (c *ModelCard) OnClassesSummary(e vugu.DOMEvent) {
	e.PreventDefault()
	c.ClassesOpen = !c.ClassesOpen
}

// OnClassesToggle follows the browser opening the list by itself (find in
// page).
func (c *ModelCard) OnClassesToggle(e vugu.DOMEvent) {
	c.ClassesOpen = e.JSEventTarget().Get("open").Bool()
}

// Choices are the picker's entries: the site's models, the user's own
// file when one not kept in this browser is in use, and the user's kept
// models.
func (c *ModelCard) Choices() []protocol.SiteModel {
	return append(c.SiteChoices(), c.YourChoices()...)
}

// SiteChoices are the site's models, and the user's own file when one not
// kept in this browser is in use.
func (c *ModelCard) SiteChoices() []protocol.SiteModel {
	out := slices.Clone(c.Models)
	if c.Info != nil && c.Yours.Current == "" && !slices.ContainsFunc(out, func(m protocol.SiteModel) bool { return m.File == c.Info.Source }) {
		out = append(out, protocol.SiteModel{File: c.Info.Source, Name: c.Info.Name + " (your file)", Bytes: c.Info.WeightsBytes, Classes: len(c.Info.Classes)})
	}
	return out
}

// YourChoices are the user's models kept in this browser ("Your models"),
// their File yoursPrefix and the key; models of the same name and file
// name are told apart by the start of their SHA-256.
func (c *ModelCard) YourChoices() []protocol.SiteModel {
	var out []protocol.SiteModel
	for _, m := range c.Yours.List {
		label := m.Name + " (" + m.File + ")"
		if slices.ContainsFunc(c.Yours.List, func(o StoredModel) bool { return o.Key != m.Key && o.Name == m.Name && o.File == m.File }) {
			label = m.Name + " (" + m.File + ", " + m.Key[:min(8, len(m.Key))] + ")" // tell apart models of the same name
		}
		out = append(out, protocol.SiteModel{File: yoursPrefix + m.Key, Name: label, Bytes: m.Bytes, Classes: m.Classes})
	}
	return out
}

// ChoiceText is a picker entry.
func ChoiceText(m protocol.SiteModel) string {
	return fmt.Sprintf("%s — %d classes, %s", m.Name, m.Classes, Bytes(int64(m.Bytes)))
}

// IsCurrent reports whether m is the model in use.
func (c *ModelCard) IsCurrent(m protocol.SiteModel) bool {
	if key, ok := strings.CutPrefix(m.File, yoursPrefix); ok {
		return key == c.Yours.Current
	}
	return c.Info != nil && c.Yours.Current == "" && c.Info.Source == m.File
}

// OnPickModel follows the picker.
func (c *ModelCard) OnPickModel(e vugu.DOMEvent) {
	if c.OnPick != nil {
		c.OnPick(e.PropString("target", "value"))
	}
}

// OnModelFile handles input#model-file ("Load a model file").
func (c *ModelCard) OnModelFile(e vugu.DOMEvent) {
	input := e.JSEventTarget()
	files := input.Get("files")
	if !files.Truthy() || files.Length() == 0 || c.OnFile == nil {
		return
	}
	f := files.Index(0)
	c.OnFile(fileLabel(f), f)
	input.Set("value", "")
}

// archNames are display names of the architectures.
var archNames = map[string]string{"bagnet9": "BagNet-9", "bagnet17": "BagNet-17", "bagnet33": "BagNet-33"}

// ArchText is "BagNet-33, width ×0.25, 5.6 M parameters".
func (c *ModelCard) ArchText() string {
	i := c.Info
	name := archNames[i.Arch]
	if name == "" {
		name = i.Arch
	}
	s := name
	if i.Width != 1 {
		s += fmt.Sprintf(", width ×%g", i.Width)
	}
	if i.Params > 0 {
		s += ", " + Count(i.Params) + " parameters"
	}
	return s
}

// PatchText is "33×33 px every 8 px → 12×12 patches".
func (c *ModelCard) PatchText() string {
	i := c.Info
	return fmt.Sprintf("%d×%d px every %d px → %d×%d patches", i.Patch, i.Patch, i.Stride, i.MapH, i.MapW)
}

// InputText is "128×128 px (squashed)".
func (c *ModelCard) InputText() string {
	i := c.Info
	how := map[string]string{"squash": "whole image squashed", "crop": "centre crop"}[i.Resize]
	if how == "" {
		how = i.Resize
	}
	return fmt.Sprintf("%d×%d px, %s", i.InputSize, i.InputSize, how)
}

// ClassesText is "10 (tench, English springer, …)".
func (c *ModelCard) ClassesText() string {
	n := len(c.Info.Classes)
	var names []string
	for _, k := range c.Info.Classes[:min(3, n)] {
		names = append(names, k.Name)
	}
	s := fmt.Sprintf("%d: %s", n, strings.Join(names, ", "))
	if n > 3 {
		s += ", …"
	}
	return s
}

// WeightsText is "1.1 MB, int8".
func (c *ModelCard) WeightsText() string {
	return fmt.Sprintf("%s, %s", Bytes(int64(c.Info.WeightsBytes)), strings.ToLower(c.Info.DType))
}

// ComputeText is "0.35 GMAC per image".
func (c *ModelCard) ComputeText() string {
	return fmt.Sprintf("%.2f GMAC per image", float64(c.Info.MACs)/1e9)
}

// metaLabels are the provenance keys shown on the model card.
var metaLabels = [][2]string{
	{"val_top1", "Validation accuracy"}, {"accuracy", "Accuracy"}, {"val_acc", "Validation accuracy"},
	{"dataset", "Trained on"}, {"data", "Trained on"}, {"epochs", "Epochs"},
}

// MetaRows are the provenance facts of the model file worth showing.
func (c *ModelCard) MetaRows() [][2]string {
	var rows [][2]string
	for _, kl := range metaLabels {
		v, ok := c.Info.Meta[kl[0]]
		if !ok || v == "" || slices.ContainsFunc(rows, func(r [2]string) bool { return r[0] == kl[1] }) {
			continue
		}
		if f, err := strconv.ParseFloat(v, 64); err == nil && f > 0 && f <= 1 && strings.Contains(kl[1], "ccuracy") {
			v = fmt.Sprintf("%.1f%%", 100*f)
		}
		rows = append(rows, [2]string{kl[1], v})
	}
	return rows
}
