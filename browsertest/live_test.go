package browsertest

import (
	"bufio"
	"context"
	"github.com/bagnetweb/bagnet/ui"
	"image"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"golang.org/x/image/draw"

	_ "image/jpeg"
)

// liveStats is window.bagnetLive.
type liveStats = ui.LiveStats

// writeY4M writes frames frames of img resized to w x h as a 4:2:0 Y4M
// video (full-range BT.601, as JPEG), for Chromium's fake camera.
func writeY4M(t *testing.T, path string, img image.Image, w, h, frames int) {
	t.Helper()
	dst := image.NewRGBA(image.Rect(0, 0, w, h))
	draw.CatmullRom.Scale(dst, dst.Bounds(), img, img.Bounds(), draw.Src, nil)
	yp := make([]byte, w*h)
	cb := make([]byte, w/2*h/2)
	cr := make([]byte, w/2*h/2)
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			p := dst.Pix[y*dst.Stride+4*x:]
			r, g, b := float64(p[0]), float64(p[1]), float64(p[2])
			yp[y*w+x] = clampByte(0.299*r + 0.587*g + 0.114*b)
		}
	}
	for y := 0; y < h/2; y++ {
		for x := 0; x < w/2; x++ {
			var u, v float64
			for _, d := range [][2]int{{0, 0}, {1, 0}, {0, 1}, {1, 1}} {
				p := dst.Pix[(2*y+d[1])*dst.Stride+4*(2*x+d[0]):]
				r, g, b := float64(p[0]), float64(p[1]), float64(p[2])
				u += 128 - 0.168736*r - 0.331264*g + 0.5*b
				v += 128 + 0.5*r - 0.418688*g - 0.081312*b
			}
			cb[y*w/2+x], cr[y*w/2+x] = clampByte(u/4), clampByte(v/4)
		}
	}
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	bw := bufio.NewWriter(f)
	bw.WriteString("YUV4MPEG2 W" + itoa(w) + " H" + itoa(h) + " F" + itoa(cameraFPS) + ":1 Ip A1:1 C420jpeg\n")
	for range frames {
		bw.WriteString("FRAME\n")
		bw.Write(yp)
		bw.Write(cb)
		bw.Write(cr)
	}
	if err := bw.Flush(); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
}

// loadAverage is the machine's load average (1, 5, 15 minutes), where
// /proc says it, for the log.
func loadAverage() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "unknown"
	}
	f := strings.Fields(string(b))
	return strings.Join(f[:min(3, len(f))], " ")
}

// cameraFPS is the fake camera's frame rate (writeY4M's videos): live mode
// analyses each video frame once at most, so it is also live mode's
// highest frame rate.
const cameraFPS = 30

func clampByte(v float64) byte { return byte(max(0, min(255, v+0.5))) }

func itoa(n int) string { return strconv.Itoa(n) }

// tenchCameraTab is liveTab with a fake camera showing the tench sample
// (320x240, 3 frames).
func tenchCameraTab(t *testing.T) *tab {
	t.Helper()
	needBrowser(t)
	f, err := os.Open(filepath.Join(suite.samples, "n01440764_tench.jpg"))
	if err != nil {
		t.Fatal(err)
	}
	img, _, err := image.Decode(f)
	f.Close()
	if err != nil {
		t.Fatal(err)
	}
	video := filepath.Join(t.TempDir(), "tench.y4m")
	writeY4M(t, video, img, 320, 240, 3)
	return liveTab(t, video)
}

// liveTab opens a tab in a Chromium of its own whose fake camera plays the
// Y4M file video (the suite's Chromium has no camera flags).
func liveTab(t *testing.T, video string) *tab {
	t.Helper()
	needBrowser(t)
	chromium := os.Getenv("CHROMIUM")
	if chromium == "" {
		chromium = defaultChromium
	}
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(chromium),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("use-fake-device-for-media-stream", true),
		chromedp.Flag("use-fake-ui-for-media-stream", true),
		chromedp.Flag("use-file-for-fake-video-capture", video),
		chromedp.WindowSize(1280, 900),
	)
	actx, acancel := chromedp.NewExecAllocator(context.Background(), opts...)
	t.Cleanup(acancel)
	tb := &tab{t: t}
	ctx, cancel := chromedp.NewContext(actx, chromedp.WithListener(tb.listener("page")))
	t.Cleanup(cancel)
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("start %s with a fake camera: %v", chromium, err)
	}
	tctx, tcancel := context.WithTimeout(ctx, tabTimeout)
	t.Cleanup(tcancel)
	tb.ctx = tctx
	t.Cleanup(func() {
		if t.Failed() {
			tb.dumpLogs()
		}
	})
	return tb
}

// js runs a script for its effect.
func (tb *tab) js(script string) {
	tb.t.Helper()
	if err := chromedp.Do(tb.ctx, chromedp.Evaluate[chromedp.Void](script)); err != nil {
		tb.t.Fatalf("%s: %v", script, err)
	}
}

// startLive opens the camera, starts live mode and waits for its first
// answered frame; it keeps the camera's track as window.__liveTrack.
func (tb *tab) startLive() {
	tb.t.Helper()
	tb.js(`[...document.querySelectorAll("button")].find(b => b.textContent.trim() === "Use the camera").click()`)
	tb.waitFor(`(document.querySelector(".camera video")?.videoWidth > 0 && document.querySelector("#live-start")) ? "yes" : ""`)
	tb.js(`window.__liveTrack = document.querySelector(".camera video").srcObject.getVideoTracks()[0]`)
	tb.js(`document.querySelector("#live-start").click()`)
	tb.waitFor(`window.bagnetLive?.frames > 0 ? "yes" : ""`)
}

// Live mode in Chromium with a fake camera showing the tench: frames are
// classified one at a time, never overlapping; the top class and the frame
// rate are reported; Freeze opens the frame in the full analysis; leaving
// live mode (Freeze or Stop) ends the camera's track.
func TestLiveCamera(t *testing.T) {
	needBrowser(t)
	tb := tenchCameraTab(t)
	tb.open(suite.srv.URL)

	tb.startLive()
	time.Sleep(time.Second) // past the first frames
	first := windowValue[liveStats](tb, "bagnetLive")
	t0 := time.Now()
	time.Sleep(5 * time.Second)
	s := windowValue[liveStats](tb, "bagnetLive")
	frames, secs := s.Frames-first.Frames, time.Since(t0).Seconds()
	fps, engineFPS := float64(frames)/secs, 1000/s.MeanInferMs
	bound := min(engineFPS, cameraFPS) // each video frame is analysed once at most
	st := s.Stages
	t.Logf("live mode: %d frames in %.1f s, %.1f frames/s (the page says %.1f since its first frame); network %.1f ms per frame in the worker (mean), so the engine alone allows %.1f frames/s, the camera %d: %.0f%% of the lower reached; %d video frames read ahead and replaced before they could be sent; top %s; load average %s",
		frames, secs, fps, s.FPS, s.MeanInferMs, engineFPS, cameraFPS, 100*fps/bound, s.Skipped, s.LastTop, loadAverage())
	t.Logf("live mode stages, median ms over %d frames: capture %.1f, held %.1f, send %.1f, input %.1f, network %.1f, evidence %.1f, reply %.1f, draw %.1f; worker idle between frames %.1f; period %.1f",
		st.Frames, st.Capture, st.Held, st.Send, st.Input, st.Network, st.Evidence, st.Reply, st.Draw, st.WorkerIdle, st.Period)
	if s.Err != "" {
		t.Fatalf("live mode failed: %s", s.Err)
	}
	// The floors asserted here hold on a loaded 2-core machine (other
	// builds and browsers running: the network's pass alone then takes
	// several times its 15-30 ms): frames keep coming, and the worker is
	// kept busy, the messages' round trip between two frames costing well
	// under half of the rate the engine (or the camera, if it is slower)
	// allows. The bar, 25 frames/s
	// with the shipped model on this machine, holds only on a quiet one:
	// BAGNET_LIVE_MIN_FPS=25 asserts it.
	if frames < 10 {
		t.Errorf("%d frames answered in %.1f s, want at least 10", frames, secs)
	}
	if fps < 0.6*bound {
		t.Errorf("%.1f frames/s, under 60%% of the %.1f frames/s the engine and the camera allow: the worker waits too long between frames", fps, bound)
	}
	if st.Frames < 10 || st.Network <= 0 || st.Period < 0.8*st.Network { // one frame in flight: a period holds a pass
		t.Errorf("implausible stages: %+v", st)
	}
	if v := os.Getenv("BAGNET_LIVE_MIN_FPS"); v != "" {
		want, err := strconv.ParseFloat(v, 64)
		if err != nil {
			t.Fatalf("BAGNET_LIVE_MIN_FPS=%q: %v", v, err)
		}
		if fps < want {
			t.Errorf("%.1f frames/s, want at least %g (BAGNET_LIVE_MIN_FPS)", fps, want)
		}
	}
	overlaps, err := chromedp.Run(tb.ctx, chromedp.Evaluate[int](`window.bagnetLiveOverlaps ?? 0`))
	if err != nil || overlaps != 0 {
		t.Errorf("a live frame was sent while another was in flight %d times (%v)", overlaps, err)
	}
	if !strings.Contains(strings.ToLower(s.LastTop), "tench") {
		t.Errorf("live top class %q, want the tench", s.LastTop)
	}
	painted, err := chromedp.Run(tb.ctx, chromedp.Evaluate[int](`(() => {
		const c = document.querySelector(".live-overlay");
		const d = c.getContext("2d").getImageData(0, 0, c.width, c.height).data;
		let n = 0;
		for (let i = 3; i < d.length; i += 4) if (d[i] > 0) n++;
		return n;
	})()`))
	if err != nil || painted == 0 || s.Drawn < s.Frames {
		t.Errorf("the evidence overlay has %d painted pixels (%v); %d of %d frames drawn", painted, err, s.Drawn, s.Frames)
	}
	tb.screenshot("live")
	tb.screenshotOf("section.input", "doc-live")
	if got := tb.text("#live-status"); !strings.Contains(got, "frames/s") {
		t.Errorf("#live-status %q does not show the frame rate", got)
	}

	// Freeze: the frame's full analysis through the exact path.
	if err := chromedp.Do(tb.ctx, chromedp.Evaluate[chromedp.Void](armJS)); err != nil {
		t.Fatal(err)
	}
	tb.js(`document.querySelector("#live-freeze").click()`)
	if st := tb.waitFor(settledJS); st != "done" {
		t.Fatalf("Freeze: page state %q, want done; #error %q", st, tb.text("#error"))
	}
	r := tb.result()
	if len(r.Top) == 0 || !strings.Contains(s.LastTop, r.Top[0].Name) {
		t.Errorf("Freeze's top class %+v is not live mode's %q", r.Top, s.LastTop)
	}
	tb.waitFor(`window.__liveTrack.readyState === "ended" && !window.bagnetLive.on ? "yes" : ""`)

	// Again, and Stop.
	tb.startLive()
	tb.js(`document.querySelector("#live-stop").click()`)
	tb.waitFor(`window.__liveTrack.readyState === "ended" && !window.bagnetLive.on && !document.querySelector(".camera video") ? "yes" : ""`)
	if s := windowValue[liveStats](tb, "bagnetLive"); s.Err != "" {
		t.Errorf("live mode: %s", s.Err)
	}
}
