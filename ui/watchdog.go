package ui

import (
	"fmt"
	"time"

	"github.com/vugu/vugu/js"

	"github.com/bagnetweb/bagnet/protocol"
)

// The page's watchdog over the inference worker. The page sends one
// request at a time and gives it one deadline (protocol.RequestDeadline,
// scaled to the model's measured warm-up pass; a model load gets
// protocol.LoadQuiet of silence while it downloads, then
// protocol.LoadDeadline). A request that misses its deadline, or a worker
// that dies (Go exited, or the Worker's error event), gets the worker
// terminated and a new one started with the model in use: the site's file
// (fetched again, from the offline copy when there is one) or the user's
// file (the page keeps its bytes). The request in flight fails with a
// message that says so. A new image supersedes work for the old one:
// requests still waiting are dropped before they are sent, and the answer
// to the one in flight is not shown.

// link is Root's side of the worker: the requests sent, the one in
// flight, those waiting, the deadline and the model to restart a worker
// with.
type link struct {
	boot        js.Value
	reqs        requests      // every request not yet answered, by id (link.go)
	inflight    int           // id of the request the worker is on; 0 none, -1 the boot load
	queue       []outgoing    // waiting to be sent, oldest first
	timer       *time.Timer   // the in-flight request's deadline
	gen         int           // tells a stale timer from the current one
	deadline    time.Duration // the current timer's length, for messages
	model       modelSource   // the model in use
	restarts    int           // restarts since the last answer
	failedWant  string        // what to report once a restart is ready
	restartsAll int           // restarts of this page (window.bagnetRestarts)
}

// outgoing is a request waiting for the worker.
type outgoing struct {
	id       int
	kind     protocol.Kind
	msg      js.Value
	transfer js.Value // undefined: nothing to transfer
	keep     bool     // a request of a run (batch, teaching, patches): never superseded
}

// modelSource is where a model came from: a file of the site (url) or the
// user's file (bytes: an ArrayBuffer the page keeps).
type modelSource struct {
	url   string
	size  int
	bytes js.Value
	name  string
}

// maxRestarts is how many restarts in a row, without any answer between
// them, the page tries before it gives up and asks for a reload.
const maxRestarts = 2

// kindRestart marks, in link.reqs, a load or model request that gives a
// restarted worker the model in use (it is not a message kind).
const kindRestart protocol.Kind = "restart"

// superseded reports whether a newer image makes requests of kind k stale.
func superseded(k protocol.Kind) bool {
	return k == protocol.KindClassify || k == protocol.KindScramble || k == protocol.KindOcclude
}

// loadsModel reports whether requests of kind k load a model.
func loadsModel(k protocol.Kind) bool {
	return k == protocol.KindLoad || k == protocol.KindModel || k == kindRestart
}

// watchBoot starts the watchdog of the load app.js sent at start-up.
func (c *Root) watchBoot(boot js.Value, site protocol.SiteInfo) {
	c.boot = boot
	c.model = modelSource{url: site.Model, size: site.Sizes[site.Model]}
	c.inflight = -1
	c.reqs.put(-1, &request{kind: protocol.KindLoad})
	c.arm(protocol.LoadQuiet)
}

// send posts o now when the worker is free, else queues it. A request for
// a new image drops the queued requests it supersedes (not those of a
// run: keep): they are never sent.
func (c *Root) send(o outgoing) {
	if superseded(o.kind) {
		kept := c.queue[:0]
		for _, q := range c.queue {
			if superseded(q.kind) && !q.keep {
				c.forget(q.id)
				continue
			}
			kept = append(kept, q)
		}
		c.queue = kept
	}
	if c.inflight != 0 {
		c.queue = append(c.queue, o)
		return
	}
	c.post(o)
}

// post hands o to the worker and starts its deadline.
func (c *Root) post(o outgoing) {
	c.inflight = o.id
	q := c.reqs.get(o.id)
	q.sent, q.posted = now(), true
	if o.transfer.Truthy() {
		c.worker.Call("postMessage", o.msg, o.transfer)
	} else {
		c.worker.Call("postMessage", o.msg)
	}
	if loadsModel(o.kind) {
		c.arm(protocol.LoadQuiet)
	} else {
		c.arm(protocol.RequestDeadline(c.Info))
	}
}

// answered: the request in flight got its answer; the next one goes.
func (c *Root) answered() {
	c.disarm()
	c.inflight = 0
	c.restarts = 0
	if len(c.queue) > 0 {
		o := c.queue[0]
		c.queue = c.queue[1:]
		c.State = StateWorking
		c.post(o)
	}
}

// arm (re)starts the deadline of the request in flight.
func (c *Root) arm(d time.Duration) {
	c.disarm()
	gen := c.gen
	c.deadline = d
	c.timer = time.AfterFunc(d, func() {
		c.ee.Lock()
		defer c.ee.UnlockRender()
		if gen == c.gen && c.inflight != 0 {
			c.restart(fmt.Sprintf("stopped responding (no answer within %s)", seconds(d)), "stopped responding")
		}
	})
}

func (c *Root) disarm() {
	c.gen++
	if c.timer != nil {
		c.timer.Stop()
		c.timer = nil
	}
}

// loadAlive re-arms a loading model's deadline: another stretch of
// protocol.LoadQuiet while it downloads (macs 0), or its load and warm-up
// deadline once the worker says how big it is.
func (c *Root) loadAlive(macs int64) {
	if !loadsModel(c.reqs.kind(c.inflight)) {
		return
	}
	if macs > 0 {
		c.arm(protocol.LoadDeadline(macs))
	} else if c.deadline == protocol.LoadQuiet {
		c.arm(protocol.LoadQuiet)
	}
}

// restart replaces a hung or dead worker with a new one that loads the
// model in use; why says what happened ("stopped responding (…)"), short
// its gist for the failed request's message.
func (c *Root) restart(why, short string) {
	c.disarm()
	failed := c.inflight
	c.inflight = 0
	if c.liveDone[failed] != nil { // live mode goes on with the next frame
		c.onLive(failed, nil, js.Null(), "the inference worker "+short+"; it was restarted")
	}
	if c.restarts >= maxRestarts {
		c.queue = nil
		c.fail(fmt.Sprintf("The inference worker %s again after %d restarts. Please reload the page.", why, c.restarts))
		return
	}
	c.restarts++
	c.restartsAll++
	js.Global().Set("bagnetRestarts", c.restartsAll)
	name := c.model.name
	if c.Info != nil {
		name = c.Info.Name
	}
	if failed > 0 && c.reqs.kind(failed) != kindRestart {
		label := c.reqs.label(failed)
		if label != "" {
			label += ": "
		}
		switch c.reqs.kind(failed) {
		case protocol.KindModel, protocol.KindLoad:
			c.failedWant = fmt.Sprintf("%sthe inference worker %s while loading it; it was restarted, still with %s.", label, short, name)
			c.Switching = ""
		default:
			if failed == c.reqs.want {
				c.failedWant = fmt.Sprintf("%sthe inference worker %s; it was restarted with %s. Please try again.", label, short, name)
			}
		}
		c.forget(failed)
	}
	js.Global().Get("console").Call("warn", "inference worker "+why+": restarting it")
	c.worker = c.boot.Call("restart")
	c.reqs.asked = nil // evidence asked of the old worker never comes
	id := c.reqs.add(kindRestart, name)
	c.reqs.get(id).model = new(c.model)
	var msg, tr js.Value
	if c.model.bytes.Truthy() {
		b := c.model.bytes.Call("slice", 0) // the kept copy stays for later restarts
		msg = message(&protocol.ModelRequest{Header: protocol.Header{Type: protocol.KindModel, ID: &id}, Name: c.model.name})
		setJS(msg, protocol.FieldBytes, b)
		tr = js.Global().Get("Array").Call("of", b)
	} else {
		msg = message(&protocol.LoadRequest{Header: protocol.Header{Type: protocol.KindLoad, ID: &id}, URL: c.model.url, Size: c.model.size})
	}
	c.State = StateWorking
	c.Err = ""
	if c.failedWant != "" {
		c.Err = c.failedWant
	}
	c.Status = fmt.Sprintf("The inference worker %s: restarting it with %s…", why, name)
	c.post(outgoing{id: id, kind: kindRestart, msg: msg, transfer: tr})
	if failed > 0 { // after the restart is posted: what the run sends next waits for it
		c.failRun(failed, "the inference worker "+short+"; it was restarted")
	}
}

// failRun tells the run that sent request id (a batch's image, teaching,
// the patch figure's pictures or PNG), lost with a restarted worker, that
// it failed: a batch lists the image with msg and goes on; teaching stops,
// since the worker's features of the images so far are gone with it.
func (c *Root) failRun(id int, msg string) {
	if t := c.Teach; t != nil && t.Running {
		if _, ok := c.claim(t.ids, id); ok {
			c.teachFail(t, msg+" and lost the features computed so far: please teach again")
			return
		}
	}
	_ = c.pngAnswer(id, js.Value{}, true, msg) || c.cropsAnswer(id, nil, js.Value{}, true, msg) || c.batchAnswer(id, nil, true, msg) || c.taughtAnswer(id, nil, true, msg)
}

// restarted: the new worker has the model in use again. Analyses of the
// old worker stay on the page; follow-up requests about them (occlusion,
// scramble, other classes' maps) ask to classify the image again.
func (c *Root) restarted(info *protocol.Info) {
	c.Info = info
	c.publishDeadlines()
	c.Switching = ""
	msg := c.failedWant
	c.failedWant = ""
	switch {
	case len(c.queue) > 0: // answered() sends the next
		c.State, c.Err = StateWorking, ""
	case msg != "":
		c.State, c.Err = StateError, msg
	case c.Cur != nil:
		c.State, c.Err = StateDone, ""
	default:
		c.State, c.Err = StateReady, ""
	}
	c.Status = fmt.Sprintf("The inference worker was restarted with %s.", info.Name)
}

// InputBusy reports whether the image inputs are off: while no model is
// ready and while one loads. A new image taken while another is being
// classified supersedes it.
func (c *Root) InputBusy() bool {
	if c.Info == nil || c.State == StateLoading {
		return true
	}
	for _, id := range append([]int{c.inflight}, queuedIDs(c.queue)...) {
		if loadsModel(c.reqs.kind(id)) {
			return true
		}
	}
	return false
}

func queuedIDs(q []outgoing) []int {
	ids := make([]int, len(q))
	for i, o := range q {
		ids[i] = o.id
	}
	return ids
}

// seconds formats a deadline for people: "9 s", "1.5 s".
func seconds(d time.Duration) string {
	return fmt.Sprintf("%.3g s", d.Seconds())
}

// publishDeadlines shows the deadlines for the loaded model to scripts and
// tests as window.bagnetDeadlines: {requestMs, helperMs}.
func (c *Root) publishDeadlines() {
	if c.Info == nil {
		return
	}
	o := js.Global().Get("Object").New()
	o.Set("requestMs", float64(protocol.RequestDeadline(c.Info).Milliseconds()))
	o.Set("helperMs", float64(protocol.HelperDeadline(c.Info.MACs, c.Info.WarmupMs).Milliseconds()))
	setJS(js.Global(), "bagnetDeadlines", o)
}
