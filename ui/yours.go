package ui

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"slices"
	"strings"

	"github.com/vugu/vugu/js"

	"github.com/bagnetweb/bagnet/protocol"
)

// yoursPrefix marks a stored model's entry in the model picker:
// "yours:" and its key.
const yoursPrefix = "yours:"

// Yours is what the page knows of the user's models kept in this browser
// (modelstore.go): every model file the user gave or taught that loaded is
// kept, listed in the picker under "Your models", usable after a reload
// and offline, downloadable and deletable.
type Yours struct {
	List    []StoredModel
	Current string // the key of the model in use when it is one of them, else ""
	Note    string // what was last kept, deleted or failed
}

// find is the stored model with key, or nil.
func (y *Yours) find(key string) *StoredModel {
	for i := range y.List {
		if y.List[i].Key == key {
			return &y.List[i]
		}
	}
	return nil
}

// readYours lists the stored models (at start).
func (c *Root) readYours() {
	list, err := listYours()
	c.ee.Lock()
	defer c.ee.UnlockRender()
	if err != nil {
		c.Yours.Note = "Your models kept in this browser cannot be read: " + err.Error()
	} else {
		c.Yours.List = list
	}
	c.publishYours()
}

// keepYours keeps the model now in use in this browser when it is the
// user's file (c.model holds its bytes): only files the worker loaded are
// kept. A site model in use clears Yours.Current. The lock is held.
func (c *Root) keepYours(info *protocol.Info) {
	src := c.model
	c.Yours.Current = ""
	if !src.bytes.Truthy() {
		c.publishYours()
		return
	}
	buf := src.bytes
	taught := ""
	if t := c.Teach; t != nil && t.File.Truthy() && t.FileName() == src.name {
		taught = t.SHA256
	}
	go func() {
		key, err := digest(buf)
		c.ee.Lock()
		inUse := js.Global().Get("Object").Call("is", c.model.bytes, buf).Bool()
		if err != nil {
			c.Yours.Note = fmt.Sprintf("Could not keep %s in this browser: %v", info.Name, err)
			c.ee.UnlockRender()
			return
		}
		if c.Yours.find(key) != nil { // kept already (picked from the list, or given again)
			if inUse {
				c.Yours.Current = key
			}
			c.publishYours()
			c.ee.UnlockRender()
			return
		}
		m := StoredModel{Key: key, Name: info.Name, File: downloadName(src.name), Bytes: buf.Get("byteLength").Int(),
			Classes: len(info.Classes), Taught: key == taught, Added: js.Global().Get("Date").Call("now").Float()}
		c.ee.UnlockOnly()
		err = putYours(m, buf)
		if err == nil {
			persist()
		}
		c.ee.Lock()
		defer c.ee.UnlockRender()
		if err != nil {
			c.Yours.Note = fmt.Sprintf("Could not keep %s in this browser: %v", m.Name, err)
			return
		}
		if c.Yours.find(key) == nil {
			c.Yours.List = append(c.Yours.List, m)
		}
		if js.Global().Get("Object").Call("is", c.model.bytes, buf).Bool() {
			c.Yours.Current = key
		}
		c.Yours.Note = fmt.Sprintf("Kept %s in this browser (%s): pick it under \"Your models\", offline too.", m.Name, Bytes(int64(m.Bytes)))
		c.publishYours()
	}()
}

// digest is the SHA-256 (hex) of an ArrayBuffer: by the browser's
// crypto.subtle where there is one (no copy into Go), else in Go.
func digest(buf js.Value) (string, error) {
	if sub := js.Global().Get("crypto").Get("subtle"); sub.Truthy() {
		d, err := await(sub.Call("digest", "SHA-256", buf))
		if err != nil {
			return "", err
		}
		b := make([]byte, d.Get("byteLength").Int())
		js.CopyBytesToGo(b, js.Global().Get("Uint8Array").New(d))
		return hex.EncodeToString(b), nil
	}
	b := make([]byte, buf.Get("byteLength").Int())
	js.CopyBytesToGo(b, js.Global().Get("Uint8Array").New(buf))
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:]), nil
}

// persist asks the browser not to evict the site's storage under pressure
// (it may say no; the models stay stored either way).
func persist() {
	if st := js.Global().Get("navigator").Get("storage"); st.Truthy() && st.Get("persist").Truthy() {
		st.Call("persist")
	}
}

// downloadName is a model file's name for downloads: ending .safetensors.
func downloadName(name string) string {
	if name == "" {
		name = "model"
	}
	if !strings.HasSuffix(strings.ToLower(name), ".safetensors") {
		name += ".safetensors"
	}
	return name
}

// pickYours loads a stored model picked in the picker (file: yoursPrefix
// and its key); it reports false for other entries. The lock is held.
func (c *Root) pickYours(file string) bool {
	key, ok := strings.CutPrefix(file, yoursPrefix)
	if !ok {
		return false
	}
	m := c.Yours.find(key)
	if c.Busy() || key == c.Yours.Current || m == nil {
		return true
	}
	name, label := m.Name, m.File
	c.State, c.Err, c.Status = StateWorking, "", "Reading "+name+" from this browser…"
	go func() {
		buf, err := getYours(key)
		c.ee.Lock()
		defer c.ee.UnlockRender()
		if err != nil {
			c.State, c.Err, c.Status = StateError, fmt.Sprintf("Could not read %s from this browser: %v", name, err), ""
			if c.Info == nil {
				c.State = StateLoading
			}
			return
		}
		c.loadModelBuffer(label, buf)
	}()
	return true
}

// DeleteYours deletes a stored model from this browser. The model in use
// stays in use (as the user's file) until another is picked.
func (c *Root) DeleteYours(key string) {
	m := c.Yours.find(key)
	if m == nil {
		return
	}
	name := m.Name
	go func() {
		err := deleteYours(key)
		c.ee.Lock()
		defer c.ee.UnlockRender()
		if err != nil {
			c.Yours.Note = fmt.Sprintf("Could not delete %s: %v", name, err)
			return
		}
		c.Yours.List = slices.DeleteFunc(c.Yours.List, func(s StoredModel) bool { return s.Key == key })
		c.Yours.Note = "Deleted " + name + " from this browser."
		if c.Yours.Current == key {
			c.Yours.Current = ""
			c.Yours.Note += " It stays in use until you pick another model."
		}
		c.publishYours()
	}()
}

// SaveYours offers a stored model file as a download.
func (c *Root) SaveYours(key string) {
	m := c.Yours.find(key)
	if m == nil {
		return
	}
	name, file := m.Name, m.File
	go func() {
		buf, err := getYours(key)
		if err != nil {
			c.ee.Lock()
			c.Yours.Note = fmt.Sprintf("Could not read %s: %v", name, err)
			c.ee.UnlockRender()
			return
		}
		opts := js.Global().Get("Object").New()
		opts.Set("type", "application/octet-stream")
		save(js.Global().Get("Blob").New(js.Global().Get("Array").Call("of", buf), opts), file)
	}()
}

// yoursState is window.bagnetYours, for scripts and tests.
type yoursState struct {
	Models  []StoredModel `json:"models"`
	Current string        `json:"current"`
	Note    string        `json:"note"`
}

// publishYours sets window.bagnetYours.
func (c *Root) publishYours() {
	s := yoursState{Models: c.Yours.List, Current: c.Yours.Current, Note: c.Yours.Note}
	if s.Models == nil {
		s.Models = []StoredModel{}
	}
	setJS(js.Global(), "bagnetYours", toJS(s))
}
