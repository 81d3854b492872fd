// Package browsertest tests the web app end to end in a real browser: it
// builds the static site (cmd/mksite), serves it with server/static on
// 127.0.0.1, drives Chromium with chromedp and checks the page against the
// native engine, bit for bit.
//
// The package holds only tests and the small helpers below. The tests skip
// under -short and when Chromium is missing (make chromium installs it). The
// browser is /usr/bin/chromium, or the file named by the environment variable
// CHROMIUM. The model is the file named by BAGNET_MODEL (relative names are
// taken from the repository root), else the trained default model if it
// exists, else a small random int8 model. BROWSERTEST_SITE names a site built
// before (say dist, by make site) to test instead of building one; its
// model.safetensors is then the reference. Screenshots of the main states go to
// testout/ at the repository root.
//
// The same site also runs in Firefox (headless, driven over WebDriver BiDi;
// $FIREFOX, else /usr/bin/firefox-esr) and in WebKitGTK's MiniBrowser
// (through classic WebDriver; $WEBKIT_WEBDRIVER, else
// /usr/bin/WebKitWebDriver, on an Xvfb display of its own: $XVFB, else
// /usr/bin/Xvfb), each in a browser of its own; those tests skip when their
// browser is missing (and fail with CI set), independently of Chromium.
package browsertest

import (
	"fmt"
	"image"
	"math"
	"net/url"
	"strings"
)

// foreignURLs returns the URLs in urls that do not belong to origin (a
// scheme://host:port string). data: URLs carry no request and count as the
// page's own; a blob: URL belongs to the origin written inside it. URLs that
// do not parse are foreign.
func foreignURLs(origin string, urls []string) []string {
	var out []string
	for _, u := range urls {
		if !sameOrigin(origin, u) {
			out = append(out, u)
		}
	}
	return out
}

func sameOrigin(origin, raw string) bool {
	if strings.HasPrefix(raw, "data:") {
		return true
	}
	raw = strings.TrimPrefix(raw, "blob:")
	u, err := url.Parse(raw)
	if err != nil || u.Opaque != "" || u.User != nil {
		return false
	}
	return u.Scheme+"://"+u.Host == origin
}

// bitDiff describes the first difference between two float32 slices compared
// bit for bit (so NaNs compare by payload and 0 differs from -0), or returns
// "" when they are identical.
func bitDiff(got, want []float32) string {
	if len(got) != len(want) {
		return fmt.Sprintf("length %d, want %d", len(got), len(want))
	}
	for i := range got {
		if math.Float32bits(got[i]) != math.Float32bits(want[i]) {
			return fmt.Sprintf("[%d] = %v (%#08x), want %v (%#08x)",
				i, got[i], math.Float32bits(got[i]), want[i], math.Float32bits(want[i]))
		}
	}
	return ""
}

// distinctColors counts the distinct RGBA colours of img, stopping at limit
// (a blank or single-colour image has 1).
func distinctColors(img image.Image, limit int) int {
	seen := make(map[[4]uint32]bool)
	b := img.Bounds()
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			r, g, bl, a := img.At(x, y).RGBA()
			seen[[4]uint32{r, g, bl, a}] = true
			if len(seen) >= limit {
				return len(seen)
			}
		}
	}
	return len(seen)
}
