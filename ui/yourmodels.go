package ui

import (
	"fmt"

	"github.com/vugu/vugu/js"
)

// YourModels lists the user's models kept in this browser, each with a
// download and a delete button (the picker above selects them). Delete
// asks first, in place: "Delete NAME? No / Yes, delete", No where Delete
// was (a double click keeps the model) and taking the focus.
type YourModels struct {
	Y                Yours
	Busy             bool
	OnSave, OnDelete func(key string)

	Asking  string // the key of the model whose deletion is asked about, "" when none
	focusNo bool   // the question just came: its No takes the focus
}

// Detail is "taught here · 3 classes · 1.1 MB · mine.safetensors · SHA-256 3f2a9c01…".
func (c *YourModels) Detail(m StoredModel) string {
	how := "your file"
	if m.Taught {
		how = "taught here"
	}
	return fmt.Sprintf("%s · %d classes · %s · %s · SHA-256 %s…", how, m.Classes, Bytes(int64(m.Bytes)), m.File, m.Key[:min(8, len(m.Key))])
}

// InUse marks the model in use.
func (c *YourModels) InUse(m StoredModel) bool { return m.Key == c.Y.Current }

// Save and Delete follow the buttons.
func (c *YourModels) Save(key string) {
	if c.OnSave != nil {
		c.OnSave(key)
	}
}

// Delete asks whether to delete a kept model.
func (c *YourModels) Delete(key string) {
	if !c.Busy {
		c.Asking, c.focusNo = key, true
	}
}

// Asked reports whether m's deletion is asked about.
func (c *YourModels) Asked(m StoredModel) bool { return c.Asking == m.Key }

// Confirm deletes the model asked about (Yes).
func (c *YourModels) Confirm(key string) {
	if c.Asking != key || c.Busy {
		return
	}
	c.Asking = ""
	if c.OnDelete != nil {
		c.OnDelete(key)
	}
}

// KeepIt answers No: the model is kept.
func (c *YourModels) KeepIt() { c.Asking = "" }

// FocusNo gives the question's No button (el) the focus when the question
// just came.
func (c *YourModels) FocusNo(el js.Value) {
	if c.focusNo && el.Truthy() {
		c.focusNo = false
		el.Call("focus")
	}
}
