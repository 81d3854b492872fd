package ui

import "fmt"

// YourModels lists the user's models kept in this browser, each with a
// download and a delete button (the picker above selects them).
type YourModels struct {
	Y                Yours
	Busy             bool
	OnSave, OnDelete func(key string)
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

// Delete deletes a kept model.
func (c *YourModels) Delete(key string) {
	if c.OnDelete != nil && !c.Busy {
		c.OnDelete(key)
	}
}
