package ui

import "github.com/vugu/vugu/js"

// ThumbSide is the longest side, in pixels, of the thumbnails the worker
// makes of a batch's images (protocol.ClassifyRequest.Thumb).
const ThumbSide = 48

// CanOpen reports whether the item's file can be opened in the full
// analysis: it has been sent (its handle is kept) and is done.
func (it *BatchItem) CanOpen() bool { return it.Done && it.file.Truthy() }

// OpenBatchItem classifies the item's file in the main view, as choosing
// that file does; the result takes the focus and scrolls into view when it
// arrives. Not while the batch runs.
func (c *Root) OpenBatchItem(it *BatchItem) {
	if c.Batch != nil && c.Batch.Running {
		c.Status = "Please wait for the batch to finish (or cancel it) to open an image."
		return
	}
	if !it.CanOpen() {
		return
	}
	// The result's heading takes the focus when it arrives (revealResults
	// gives it to the result when nothing has it).
	if el := js.Global().Get("document").Get("activeElement"); el.Truthy() && el.Get("blur").Truthy() {
		el.Call("blur")
	}
	c.classifyBlob(fileLabel(it.file), it.file)
}
