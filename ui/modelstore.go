package ui

import (
	"fmt"
	"sort"

	"github.com/vugu/vugu/js"
)

// The user's own models (taught in the page or loaded from a file) are
// kept in IndexedDB, database yoursDB, not in Cache Storage: the service
// worker deletes every bagnet-* cache but its own version's when a new
// version activates, and "Clear the offline copy" deletes the site's
// caches; the user's models survive both (and need no HTTPS). One store
// holds the descriptions (small: the picker lists them without reading a
// file), another the files' bytes, both by the file's SHA-256.
const (
	yoursDB      = "bagnet-yours"
	yoursVersion = 1
	yoursMeta    = "models"
	yoursFiles   = "files"
)

// StoredModel describes one of the user's models kept in this browser.
type StoredModel struct {
	Key     string  `json:"key"`  // the file's SHA-256 (hex)
	Name    string  `json:"name"` // the model's name
	File    string  `json:"file"` // the file's name, for downloads
	Bytes   int     `json:"bytes"`
	Classes int     `json:"classes"`
	Taught  bool    `json:"taught"` // taught in this page
	Added   float64 `json:"added"`  // Date.now() when it was stored
}

// idbWait waits for an IndexedDB request (or transaction: ok "complete")
// to succeed, returning its result (a transaction's is undefined).
func idbWait(target js.Value, ok string) (js.Value, error) {
	type settled struct {
		v   js.Value
		err error
	}
	ch := make(chan settled, 1)
	done := js.FuncOf(func(js.Value, []js.Value) any {
		var v js.Value
		if ok == "success" {
			v = target.Get("result")
		}
		select {
		case ch <- settled{v: v}:
		default:
		}
		return nil
	})
	fail := js.FuncOf(func(_ js.Value, a []js.Value) any {
		msg := "failed"
		if e := target.Get("error"); e.Truthy() {
			msg = e.Get("name").String() + ": " + e.Get("message").String()
		}
		select {
		case ch <- settled{err: fmt.Errorf("%s", msg)}:
		default:
		}
		return nil
	})
	defer done.Release()
	defer fail.Release()
	target.Call("addEventListener", ok, done)
	target.Call("addEventListener", "error", fail)
	target.Call("addEventListener", "abort", fail)
	r := <-ch
	return r.v, r.err
}

// openYours opens the database, creating its stores the first time.
func openYours() (js.Value, error) {
	idb := js.Global().Get("indexedDB")
	if !idb.Truthy() {
		return js.Value{}, fmt.Errorf("this browser offers no IndexedDB here")
	}
	req := idb.Call("open", yoursDB, yoursVersion)
	upgrade := js.FuncOf(func(js.Value, []js.Value) any {
		db := req.Get("result")
		names := db.Get("objectStoreNames")
		for _, s := range []string{yoursMeta, yoursFiles} {
			if !names.Call("contains", s).Bool() {
				db.Call("createObjectStore", s)
			}
		}
		return nil
	})
	defer upgrade.Release()
	req.Call("addEventListener", "upgradeneeded", upgrade)
	return idbWait(req, "success")
}

// listYours reads the descriptions of the stored models, oldest first.
func listYours() ([]StoredModel, error) {
	db, err := openYours()
	if err != nil {
		return nil, err
	}
	defer db.Call("close")
	all, err := idbWait(db.Call("transaction", yoursMeta, "readonly").Call("objectStore", yoursMeta).Call("getAll"), "success")
	if err != nil {
		return nil, err
	}
	var out []StoredModel
	if err := decode(all, &out); err != nil {
		return nil, err
	}
	sort.SliceStable(out, func(a, b int) bool { return out[a].Added < out[b].Added })
	return out, nil
}

// putYours stores a model file (an ArrayBuffer) and its description, in
// one transaction: both or neither.
func putYours(m StoredModel, buf js.Value) error {
	db, err := openYours()
	if err != nil {
		return err
	}
	defer db.Call("close")
	tx := db.Call("transaction", js.Global().Get("Array").Call("of", yoursMeta, yoursFiles), "readwrite")
	tx.Call("objectStore", yoursFiles).Call("put", buf, m.Key)
	tx.Call("objectStore", yoursMeta).Call("put", toJS(m), m.Key)
	_, err = idbWait(tx, "complete")
	return err
}

// getYours reads a stored model file (an ArrayBuffer).
func getYours(key string) (js.Value, error) {
	db, err := openYours()
	if err != nil {
		return js.Value{}, err
	}
	defer db.Call("close")
	buf, err := idbWait(db.Call("transaction", yoursFiles, "readonly").Call("objectStore", yoursFiles).Call("get", key), "success")
	if err == nil && !buf.Truthy() {
		err = fmt.Errorf("it is no longer stored")
	}
	return buf, err
}

// deleteYours removes a stored model, file and description.
func deleteYours(key string) error {
	db, err := openYours()
	if err != nil {
		return err
	}
	defer db.Call("close")
	tx := db.Call("transaction", js.Global().Get("Array").Call("of", yoursMeta, yoursFiles), "readwrite")
	tx.Call("objectStore", yoursFiles).Call("delete", key)
	tx.Call("objectStore", yoursMeta).Call("delete", key)
	_, err = idbWait(tx, "complete")
	return err
}
