package ui

import (
	"fmt"
	"strings"

	"github.com/vugu/vugu"
	"github.com/vugu/vugu/js"

	"github.com/bagnetweb/bagnet/protocol"
)

// StoragePanel shows what the service worker stored for offline use (the
// app and the default model at the first visit, each other model once it
// was picked), how much space the site uses, and clears it all.
type StoragePanel struct {
	Models  []protocol.SiteModel
	Version int // changes when a model was loaded: the panel looks again

	Rows    []StorageRow
	Usage   float64 // bytes the site uses (navigator.storage.estimate), -1 unknown
	Quota   float64
	Files   int // cached responses in the site's caches
	Working bool
	Note    string

	ee   vugu.EventEnv
	seen int
	init bool
}

// StorageRow is one model and whether it is stored.
type StorageRow struct {
	File, Name, Size string
	Stored           bool
}

// State says it in words.
func (r StorageRow) State() string {
	if r.Stored {
		return "stored"
	}
	return "not stored"
}

// StoredAttr is data-stored: "true" or "false".
func (r StorageRow) StoredAttr() string { return fmt.Sprint(r.Stored) }

// StateClass styles the state.
func (r StorageRow) StateClass() string {
	if r.Stored {
		return "state stored"
	}
	return "state muted"
}

// Init keeps the event environment for the asynchronous checks.
func (c *StoragePanel) Init(ctx vugu.InitCtx) { c.ee = ctx.EventEnv(); c.Usage = -1 }

// BeforeBuild looks again after a model was loaded.
func (c *StoragePanel) BeforeBuild() {
	if !c.init || c.seen != c.Version {
		c.init, c.seen = true, c.Version
		c.Refresh()
	}
}

// UsageText is the space used.
func (c *StoragePanel) UsageText() string {
	if c.Usage < 0 {
		return "Checking…"
	}
	s := fmt.Sprintf("%d files, %s stored by this site", c.Files, Bytes(int64(c.Usage)))
	if c.Quota > 0 {
		s += fmt.Sprintf(" (of %s this browser allows)", Bytes(int64(c.Quota)))
	}
	return s + "."
}

// Refresh checks the caches in the background.
func (c *StoragePanel) Refresh() {
	if !js.Global().Truthy() || c.Working {
		return
	}
	c.Working = true
	go func() {
		rows, files, usage, quota, err := look(c.Models)
		c.ee.Lock()
		defer c.ee.UnlockRender()
		c.Working = false
		if err != nil {
			c.Note = err.Error()
			return
		}
		c.Rows, c.Files, c.Usage, c.Quota = rows, files, usage, quota
	}()
}

// look reads the site's caches (those the service worker names bagnet-...).
func look(models []protocol.SiteModel) (rows []StorageRow, files int, usage, quota float64, err error) {
	caches := js.Global().Get("caches")
	if !caches.Truthy() {
		return nil, 0, 0, 0, fmt.Errorf("This browser offers no offline storage here (it needs HTTPS or localhost).")
	}
	keys, err := await(caches.Call("keys"))
	if err != nil {
		return nil, 0, 0, 0, err
	}
	for i := 0; i < keys.Length(); i++ {
		name := keys.Index(i).String()
		if !strings.HasPrefix(name, "bagnet-") {
			continue
		}
		cache, err := await(caches.Call("open", name))
		if err != nil {
			return nil, 0, 0, 0, err
		}
		reqs, err := await(cache.Call("keys"))
		if err != nil {
			return nil, 0, 0, 0, err
		}
		files += reqs.Length()
	}
	for _, m := range models {
		hit, err := await(caches.Call("match", m.File))
		if err != nil {
			return nil, 0, 0, 0, err
		}
		rows = append(rows, StorageRow{File: m.File, Name: m.Name, Size: Bytes(int64(m.Bytes)), Stored: hit.Truthy()})
	}
	if st := js.Global().Get("navigator").Get("storage"); st.Truthy() && st.Get("estimate").Truthy() {
		if est, err := await(st.Call("estimate")); err == nil {
			usage, quota = est.Get("usage").Float(), est.Get("quota").Float()
		}
	}
	return rows, files, usage, quota, nil
}

// Clear deletes the site's caches and unregisters its service worker, so
// the next visit stores the app afresh.
func (c *StoragePanel) Clear() {
	if !js.Global().Truthy() || c.Working {
		return
	}
	c.Working = true
	go func() {
		n, err := clearStorage()
		c.ee.Lock()
		c.Working = false
		if err != nil {
			c.Note = "Could not clear: " + err.Error()
		} else {
			c.Note = fmt.Sprintf("Cleared %d caches. The page keeps working while online; the next visit stores it for offline use again.", n)
		}
		c.ee.UnlockRender()
		c.Refresh()
	}()
}

func clearStorage() (int, error) {
	caches := js.Global().Get("caches")
	if !caches.Truthy() {
		return 0, fmt.Errorf("no offline storage here")
	}
	keys, err := await(caches.Call("keys"))
	if err != nil {
		return 0, err
	}
	n := 0
	for i := 0; i < keys.Length(); i++ {
		if name := keys.Index(i).String(); strings.HasPrefix(name, "bagnet-") {
			if _, err := await(caches.Call("delete", name)); err != nil {
				return n, err
			}
			n++
		}
	}
	if sw := js.Global().Get("navigator").Get("serviceWorker"); sw.Truthy() {
		regs, err := await(sw.Call("getRegistrations"))
		if err != nil {
			return n, err
		}
		for i := 0; i < regs.Length(); i++ {
			if _, err := await(regs.Index(i).Call("unregister")); err != nil {
				return n, err
			}
		}
	}
	return n, nil
}
