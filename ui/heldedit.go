package ui

// An occlusion painted while the page is busy (an earlier edit still being
// recomputed, a scramble, a classification, a folder) is not dropped: it is
// held, the latest replacing an earlier one, the status line says so, and
// it is sent as soon as the page is free, on top of the edits made by then.
// If the image changed meanwhile it is not applied, and the status line
// says that too.

// heldEdits is Root's held occlusion (at most one).
type heldEdits struct {
	held *heldEdit
}

// heldEdit is an occlusion painted while the page was busy.
type heldEdit struct {
	rect [4]int
	of   int // the id of the image (Root.Cur) it was painted on
}

// holdEdit keeps rect to paint once the page is free. Called with the lock
// held, while Busy, with an image shown.
func (c *Root) holdEdit(rect [4]int) {
	replaced := c.held != nil
	c.held = &heldEdit{rect: rect, of: c.Cur.ID}
	c.Status = "Busy: your grey rectangle will be painted when the current work is done."
	if replaced {
		c.Status = "Busy: your latest grey rectangle (it replaces the one before) will be painted when the current work is done."
	}
}

// sendHeldEdit sends the held occlusion once the page is free. Called with
// the lock held after each message of the worker.
func (c *Root) sendHeldEdit() {
	h := c.held
	if h == nil || c.Busy() {
		return
	}
	c.held = nil
	if c.Cur == nil || c.Cur.ID != h.of {
		c.Status = "The grey rectangle painted while the page was busy was not applied: the image changed meanwhile."
		return
	}
	c.Occlude(h.rect)
}
