package ui

import (
	"fmt"
	"strings"

	"github.com/vugu/vugu"
	"github.com/vugu/vugu/js"
)

// DropFolder is the folder name given to what a drop brings when it is
// not exactly one folder: files, or several folders (which then label
// their images as class folders would).
const DropFolder = "dropped"

// folderDrop makes a panel a drop zone for a folder or many files (the
// batch and teaching panels): dropped folders are walked recursively
// (DataTransferItem.webkitGetAsEntry) and every file gets a path like
// webkitdirectory's, FOLDER/CLASS/NAME, so that a dropped folder is taken
// exactly as the same folder chosen.
type folderDrop struct {
	Dragging bool   // something is dragged over the zone
	Reading  bool   // dropped folders are being listed
	DropMsg  string // why the last drop gave nothing
}

// DropClass is the zone's class: base, plus "dragging" while something is
// dragged over it.
func (d *folderDrop) DropClass(base string) string {
	if d.Dragging {
		return base + " dragging"
	}
	return base
}

// OnDragOver keeps the zone a drop target and shows it.
func (d *folderDrop) OnDragOver(e vugu.DOMEvent) {
	e.PreventDefault()
	d.Dragging = true
}

// OnDragLeave stops showing the zone, unless the pointer only moved onto
// one of its children.
func (d *folderDrop) OnDragLeave(e vugu.DOMEvent) {
	rel, cur := e.JSEvent().Get("relatedTarget"), e.JSEventCurrentTarget()
	if rel.Truthy() && cur.Truthy() && cur.Call("contains", rel).Bool() {
		return
	}
	d.Dragging = false
}

// takeDrop takes a drop on the zone: it lists the dropped entries at once
// (the browser forgets them after the event), then reads folders in a
// goroutine and hands an Array of the File objects found, each with its
// path in batchPath, to on (with the page locked). busy refuses the drop
// with a message.
func (d *folderDrop) takeDrop(e vugu.DOMEvent, busy bool, on func(files js.Value)) {
	e.PreventDefault()
	d.Dragging = false
	if busy || d.Reading {
		d.DropMsg = "Please wait for the current work to finish."
		return
	}
	dt := e.JSEvent().Get("dataTransfer")
	if !dt.Truthy() {
		return
	}
	entries, loose := dropItems(dt)
	if len(entries) == 0 && len(loose) == 0 {
		d.DropMsg = "Drop a folder or image files (a link or text cannot be used here)."
		return
	}
	d.DropMsg, d.Reading = "", true
	ee := e.EventEnv()
	go func() {
		wrap := !(len(entries) == 1 && entries[0].Get("isDirectory").Bool() && len(loose) == 0)
		files := js.Global().Get("Array").New()
		var errs []string
		add := func(f js.Value, fullPath string) {
			f.Set("batchPath", dropPath(fullPath, wrap))
			files.Call("push", f)
		}
		for _, ent := range entries {
			walkEntry(ent, add, &errs)
		}
		for _, f := range loose {
			add(f, f.Get("name").String())
		}
		ee.Lock()
		defer ee.UnlockRender()
		d.Reading = false
		if len(errs) > 0 {
			d.DropMsg = "Could not read all of the drop: " + strings.Join(errs, "; ")
		}
		if files.Length() > 0 {
			on(files)
		} else if d.DropMsg == "" {
			d.DropMsg = "The drop holds no files."
		}
	}()
}

// dropItems lists a DataTransfer's dropped entries (folders and files, as
// FileSystemEntry) and, where the browser gives no entry, its files.
func dropItems(dt js.Value) (entries, loose []js.Value) {
	items := dt.Get("items")
	if !items.Truthy() {
		files := dt.Get("files")
		for i := 0; files.Truthy() && i < files.Length(); i++ {
			loose = append(loose, files.Index(i))
		}
		return entries, loose
	}
	for i := 0; i < items.Length(); i++ {
		it := items.Index(i)
		if it.Get("kind").String() != "file" {
			continue
		}
		if it.Get("webkitGetAsEntry").Type() == js.TypeFunction {
			if ent := it.Call("webkitGetAsEntry"); ent.Truthy() {
				entries = append(entries, ent)
				continue
			}
		}
		if f := it.Call("getAsFile"); f.Truthy() {
			loose = append(loose, f)
		}
	}
	return entries, loose
}

// walkEntry hands every file under the FileSystemEntry ent to add, with
// its full path ("/FOLDER/CLASS/NAME"); folders are read to the end
// (readEntries gives them in chunks). What cannot be read goes to errs.
// It blocks: call it from a goroutine.
func walkEntry(ent js.Value, add func(f js.Value, fullPath string), errs *[]string) {
	name := ent.Get("fullPath").String()
	switch {
	case ent.Get("isFile").Bool():
		f, err := awaitCallback(ent, "file")
		if err != nil {
			*errs = append(*errs, fmt.Sprintf("%s: %v", strings.TrimPrefix(name, "/"), err))
			return
		}
		add(f, name)
	case ent.Get("isDirectory").Bool():
		r := ent.Call("createReader")
		for {
			chunk, err := awaitCallback(r, "readEntries")
			if err != nil {
				*errs = append(*errs, fmt.Sprintf("%s: %v", strings.TrimPrefix(name, "/"), err))
				return
			}
			if chunk.Length() == 0 {
				return
			}
			for i := 0; i < chunk.Length(); i++ {
				walkEntry(chunk.Index(i), add, errs)
			}
		}
	}
}

// awaitCallback calls obj.method(ok, fail), the callback style of the
// FileSystem entry API, and waits for either.
func awaitCallback(obj js.Value, method string) (js.Value, error) {
	exec := js.FuncOf(func(_ js.Value, a []js.Value) any {
		obj.Call(method, a[0], a[1])
		return nil
	})
	defer exec.Release()
	return await(js.Global().Get("Promise").New(exec))
}

// dropPath is the path a dropped file gets from its entry's full path
// ("/FOLDER/CLASS/NAME", or a file's name): the full path without its
// leading slash when the drop is one folder, like webkitRelativePath;
// otherwise inside DropFolder (wrap), so that the dropped folders are
// class folders and dropped files are unlabelled images.
func dropPath(fullPath string, wrap bool) string {
	p := strings.TrimLeft(fullPath, "/")
	if wrap {
		return DropFolder + "/" + p
	}
	return p
}

// DropHint says what the zone does now: reading a drop, ready for one, or
// that it takes one.
func (d *folderDrop) DropHint() string {
	switch {
	case d.Reading:
		return "Reading the dropped folder…"
	case d.Dragging:
		return "Drop it here."
	}
	return "or drop a folder here"
}
