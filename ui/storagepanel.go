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
	// Yours are the user's models, kept apart (IndexedDB): counted, never
	// cleared here.
	Yours []StoredModel

	Rows    []StorageRow
	Usage   float64 // bytes of the responses in the site's caches, -1 unknown
	Quota   float64 // what the browser allows the site (navigator.storage.estimate), 0 unknown
	Files   int     // cached responses in the site's caches
	Working bool
	Note    string
	Open    bool // the panel is open (vugu re-renders the attribute)

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

// OpenAttr is the open attribute of the <details>.
func (c *StoragePanel) OpenAttr() any { return openAttr(c.Open) }

// OnSummary opens or closes the panel (the state decides, not the browser:
// vugu sets the attributes of every render).
func (c *StoragePanel) OnSummary(e vugu.DOMEvent) { e.PreventDefault(); c.Open = !c.Open }

// OnToggle follows the browser opening the panel by itself (find in page).
func (c *StoragePanel) OnToggle(e vugu.DOMEvent) { c.Open = e.JSEventTarget().Get("open").Bool() }

// UsageText is the space used: the files of the site's caches and their
// bytes, counted from the same look, so that they always agree.
func (c *StoragePanel) UsageText() string {
	return usageText(c.Files, c.Usage, c.Quota)
}

func usageText(files int, usage, quota float64) string {
	if usage < 0 {
		return "Checking…"
	}
	if files == 0 {
		return "Nothing is stored for offline use."
	}
	s := fmt.Sprintf("%d %s, %s stored for offline use", files, plural(files, "file", "files"), Bytes(int64(usage)))
	if quota > 0 {
		s += fmt.Sprintf(" (this browser allows the site %s)", Bytes(int64(quota)))
	}
	return s + "."
}

// openAttr is a boolean attribute's value: present when on.
func openAttr(on bool) any {
	if on {
		return "open"
	}
	return nil
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

// look reads the site's caches (those the service worker names bagnet-...):
// the models stored, how many responses and how many bytes they hold.
func look(models []protocol.SiteModel) (rows []StorageRow, files int, usage, quota float64, err error) {
	caches := js.Global().Get("caches")
	if !caches.Truthy() {
		return nil, 0, 0, 0, fmt.Errorf("This browser offers no offline storage here (it needs HTTPS or localhost).")
	}
	files, usage, err = cachedFiles()
	if err != nil {
		return nil, 0, 0, 0, err
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
			quota = est.Get("quota").Float()
		}
	}
	return rows, files, usage, quota, nil
}

// cachedFiles counts the responses of the site's caches and their bytes (each
// body's size as a Blob: no copy into the page).
func cachedFiles() (files int, bytes float64, err error) {
	caches := js.Global().Get("caches")
	keys, err := await(caches.Call("keys"))
	if err != nil {
		return 0, 0, err
	}
	for i := 0; i < keys.Length(); i++ {
		name := keys.Index(i).String()
		if !strings.HasPrefix(name, "bagnet-") {
			continue
		}
		cache, err := await(caches.Call("open", name))
		if err != nil {
			return 0, 0, err
		}
		reqs, err := await(cache.Call("keys"))
		if err != nil {
			return 0, 0, err
		}
		for k := 0; k < reqs.Length(); k++ {
			resp, err := await(cache.Call("match", reqs.Index(k)))
			if err != nil || !resp.Truthy() {
				continue // deleted meanwhile
			}
			blob, err := await(resp.Call("blob"))
			if err != nil {
				return 0, 0, err
			}
			files++
			bytes += blob.Get("size").Float()
		}
	}
	return files, bytes, nil
}

// Clear deletes the site's caches and unregisters its service worker, so
// the next visit stores the app afresh.
func (c *StoragePanel) Clear() {
	if !js.Global().Truthy() || c.Working {
		return
	}
	c.Working = true
	go func() {
		files, bytes, _ := cachedFiles() // what clearing frees, for the note
		n, err := clearStorage()
		rows, left, usage, quota, lookErr := look(c.Models)
		c.ee.Lock()
		defer c.ee.UnlockRender()
		c.Working = false
		if lookErr == nil {
			c.Rows, c.Files, c.Usage, c.Quota = rows, left, usage, quota
		}
		if err != nil {
			c.Note = "Could not clear: " + err.Error()
			return
		}
		c.Note = clearedText(n, files, bytes) + keptText(c.Yours)
	}()
}

// clearedText says what Clear deleted.
func clearedText(caches, files int, bytes float64) string {
	return fmt.Sprintf("Cleared %d %s (%d %s, %s). The page keeps working while online; the next visit stores it for offline use again.",
		caches, plural(caches, "cache", "caches"), files, plural(files, "file", "files"), Bytes(int64(bytes)))
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

// YoursText counts the user's models kept in this browser ("" when none).
func (c *StoragePanel) YoursText() string {
	if len(c.Yours) == 0 {
		return ""
	}
	return fmt.Sprintf("Your models: %s kept apart from the offline copy (listed under \"Your models\", each with a Delete button).", yoursCount(c.Yours))
}

// yoursCount is "2 models, 2.2 MB".
func yoursCount(ms []StoredModel) string {
	total := 0
	for _, m := range ms {
		total += m.Bytes
	}
	return fmt.Sprintf("%d %s, %s", len(ms), plural(len(ms), "model", "models"), Bytes(int64(total)))
}

// keptText says that clearing kept the user's models.
func keptText(ms []StoredModel) string {
	if len(ms) == 0 {
		return ""
	}
	return fmt.Sprintf(" Your models (%s) are kept: delete them under \"Your models\".", yoursCount(ms))
}
