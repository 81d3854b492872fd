package browsertest

import (
	"context"
	"net/url"
	"path"
	"strings"
	"testing"
)

// defaultFirefox is Debian's Firefox ESR (apt-get install firefox-esr).
const defaultFirefox = "/usr/bin/firefox-esr"

// TestFirefoxMatchesNative runs the app in headless Firefox (the program
// named by $FIREFOX, else /usr/bin/firefox-esr), driven over WebDriver BiDi:
// every classification must equal the native engine's bit for bit, and no
// request of the page or its workers may leave the page's origin.
func TestFirefoxMatchesNative(t *testing.T) {
	bin := browserBinary(t, "FIREFOX", defaultFirefox, "apt-get install firefox-esr")
	needSite(t)
	ctx, cancel := context.WithTimeout(context.Background(), remoteTestTimeout)
	defer cancel()
	dir := t.TempDir() // removed after Firefox has quit (cleanups run last first)
	ff := launch(t, ctx, "Firefox", func(ctx context.Context) (*firefox, error) { return startFirefox(ctx, bin, dir) })
	t.Cleanup(func() {
		if t.Failed() {
			_, _, logs := ff.seen()
			t.Logf("Firefox console (%d):\n\t%s\nFirefox stderr (tail):\n%s", len(logs), strings.Join(logs, "\n\t"), ff.stderr)
		}
	})

	rt := &rtab{ctx: ctx, p: ff, name: "firefox"}
	testRemoteMatchesNative(t, rt)
	t.Run("folder", func(t *testing.T) { testFolderDrop(t, rt) })

	// Over BiDi the browser reports every request of the page and its
	// workers (and of its service worker): all on the origin, none failed.
	requests, failed, _ := ff.seen()
	if foreign := foreignURLs(suite.srv.URL, requests); len(foreign) > 0 {
		t.Errorf("firefox: requests to other origins than %s: %q", suite.srv.URL, foreign)
	}
	if len(failed) > 0 {
		t.Errorf("firefox: requests that failed: %q", failed)
	}
	seen := make(map[string]bool)
	for _, u := range requests {
		if p, err := url.Parse(u); err == nil {
			seen[path.Base(p.Path)] = true
		}
	}
	for _, f := range []string{"app.wasm", "worker.wasm", "model.safetensors"} {
		if !seen[f] {
			t.Errorf("firefox: no request for %s seen; requests: %q", f, requests)
		}
	}
	t.Logf("firefox: %d requests, all on the origin", len(requests))
}
