package browsertest

import (
	"context"
	"fmt"
	"os"
	"testing"
)

const (
	// defaultWebKitDriver is Debian's WebKitGTK WebDriver (apt-get
	// install webkit2gtk-driver), which runs WebKitGTK's MiniBrowser.
	defaultWebKitDriver = "/usr/bin/WebKitWebDriver"
	// defaultXvfb is Debian's virtual X server (apt-get install xvfb):
	// MiniBrowser needs a display.
	defaultXvfb = "/usr/bin/Xvfb"
)

// TestWebKitMatchesNative runs the app in WebKitGTK's MiniBrowser (through
// the driver named by $WEBKIT_WEBDRIVER, else /usr/bin/WebKitWebDriver) on
// an Xvfb display of its own ($XVFB, else /usr/bin/Xvfb; without it, the
// DISPLAY of the environment): every classification must equal the native
// engine's bit for bit, and the page must load nothing from another origin.
// (Classic WebDriver does not report requests: the page's resource timing
// entries stand in, which do not cover its workers.)
func TestWebKitMatchesNative(t *testing.T) {
	driver := browserBinary(t, "WEBKIT_WEBDRIVER", defaultWebKitDriver, "apt-get install webkit2gtk-driver")
	xvfb := os.Getenv("XVFB")
	if xvfb == "" {
		xvfb = defaultXvfb
	}
	if !isProgram(xvfb) {
		if os.Getenv("DISPLAY") == "" {
			missing(t, fmt.Sprintf("WebKit's MiniBrowser needs a display: no %s (apt-get install xvfb; set XVFB to use another) and no DISPLAY", xvfb))
		}
		xvfb = ""
	}
	needSite(t)
	ctx, cancel := context.WithTimeout(context.Background(), remoteTestTimeout)
	defer cancel()
	wk := launch(t, ctx, "WebKit", func(ctx context.Context) (*webkit, error) { return startWebKit(ctx, driver, xvfb) })
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("WebKitWebDriver and Xvfb output (tail):\n%s", wk.log)
		}
	})

	rt := &rtab{ctx: ctx, p: wk, name: "webkit"}
	testRemoteMatchesNative(t, rt)
	t.Run("folder", func(t *testing.T) { testFolderDrop(t, rt) })
}
