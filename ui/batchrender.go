package ui

import "time"

// BatchRenderEvery is how often, at most, the page is rendered while a
// batch runs: its progress, speed and results table are refreshed at
// this pace, and once more when it ends.
const BatchRenderEvery = 250 * time.Millisecond

// batchRender keeps a running batch from rendering the page after each
// answer and each request sent. Rendering the page (vugu builds the whole
// component tree and syncs the DOM) took as long as the worker takes on an
// image, so the worker waited for the page; instead, such a change is left
// to a ticker that renders at most every BatchRenderEvery while the batch
// runs, and only when something changed.
type batchRender struct {
	quiet bool // the change just made under the lock is left to the ticker
	dirty bool // a change was left to the ticker since it last rendered
}

// quietWhile marks the change just made (the lock is held) as one the
// ticker shows, when batch b still runs; when it does not (it just ended),
// the change is rendered at once.
func (c *Root) quietWhile(b *Batch) {
	c.quiet = b != nil && c.Batch == b && b.Running
}

// unlock releases the lock taken for a change: the page is rendered now,
// or, for a change quietWhile marked, by the batch's ticker.
func (c *Root) unlock() {
	if c.quiet {
		c.quiet, c.dirty = false, true
		c.ee.UnlockOnly()
		return
	}
	c.ee.UnlockRender()
}

// tickBatch renders the page every BatchRenderEvery while batch b runs,
// when a change was left to it.
func (c *Root) tickBatch(b *Batch) {
	go func() {
		for {
			time.Sleep(BatchRenderEvery)
			c.ee.Lock()
			if c.Batch != b || !b.Running {
				c.ee.UnlockOnly()
				return
			}
			if !c.dirty {
				c.ee.UnlockOnly()
				continue
			}
			c.dirty = false
			c.ee.UnlockRender()
		}
	}()
}

// batchRequest reports whether request id is one of the running batch's:
// its answer lets the next request go to the worker before the page reads
// the answer (the page only records it), so that the worker does not wait
// for the page.
func (c *Root) batchRequest(id int) bool {
	if b := c.Batch; b != nil && b.Running {
		_, ok := b.ids[id]
		return ok
	}
	return false
}
