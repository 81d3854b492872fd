package browsertest

import (
	"crypto/sha256"
	"encoding/hex"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// TestTeachSpeed is a measurement (it runs only with TEACH_SPEED=1):
// teaching the shipped model's backbone 10 classes from 10 Imagenette
// train images each (100 images) in the page with 1 and 2 workers, and
// with 2 workers sending one image at a time (?teachper=1: its passes in
// bands, as the page did before), alternating, in rounds, against 'bagnet
// teach' on the same folder in the same run. Every page run must still give the command's file byte for
// byte; the times are logged, with the medians and their ratios.
func TestTeachSpeed(t *testing.T) {
	if os.Getenv("TEACH_SPEED") == "" {
		t.Skip("a measurement: set TEACH_SPEED=1 to run it")
	}
	classes := map[string]string{}
	for _, w := range []string{"n01440764", "n02102040", "n02979186", "n03000684", "n03028079", "n03394916", "n03417042", "n03425413", "n03445777", "n03888257"} {
		classes[w] = w
	}
	tb := newTab(t) // first: it starts the suite (the site, the repository's root)
	parent, name, _ := teachFolder(t, classes, 10)
	times := map[string][]float64{}
	for round := 0; round < 3; round++ {
		want, cli := cliTeach(t, parent, name)
		sum := sha256.Sum256(want)
		times["cli"] = append(times["cli"], cli.Seconds())
		t.Logf("round %d: bagnet teach (whole command, all cores) %.2f s", round+1, cli.Seconds())
		for _, v := range []struct {
			key, query string
		}{{"page1", "?workers=1"}, {"page2", "?workers=2"}, {"page2each", "?workers=2&teachper=1"}} {
			tb.openQuery(suite.srv.URL, v.query)
			t0 := time.Now()
			if err := chromedp.Do(tb.ctx, chromedp.Evaluate[chromedp.Void](`window.bagnetTaught = null`),
				chromedp.SetUploadFiles(chromedp.CSS("#teach-folder"), []string{filepath.Join(parent, name)})); err != nil {
				t.Fatal(err)
			}
			if _, ok := tb.tryWaitFor(taughtJS, 10*time.Minute); !ok {
				t.Fatalf("%s: teaching did not end: %+v", v.query, windowValue[teachState](tb, "bagnetTaught"))
			}
			wall := time.Since(t0)
			s := windowValue[teachState](tb, "bagnetTaught")
			if s.Err != "" || s.Done != 100 || s.SHA256 != hex.EncodeToString(sum[:]) {
				t.Fatalf("%s: %+v, want 100 images and bagnet teach's file", v.query, s)
			}
			times[v.key] = append(times[v.key], s.Ms/1000)
			learned := windowValue[taughtPatchesState](tb, "bagnetTaughtPatches")
			t.Logf("round %d, %s: page %.2f s (of it training and held-out accuracy %.2f s; the inference worker decoding and resizing %.2f s, in the network %.2f s, %d images whole on band workers), then what each class learned %.2f s (the worker's %.2f s) (wall %.2f s in all); held-out %d/%d",
				round+1, v.query, s.Ms/1000, s.TrainMs/1000, s.PrepMs/1000, s.PassMs/1000, s.Helped, learned.Ms/1000, learned.WorkMs/1000, wall.Seconds(), s.Correct, s.Images)
		}
	}
	c, p1, p2, p2e := median(times["cli"]), median(times["page1"]), median(times["page2"]), median(times["page2each"])
	t.Logf("teaching 100 images (medians of 3): bagnet teach %.2f s; page 1 worker %.2f s, 2 workers %.2f s, 2 workers one image at a time in bands (as before) %.2f s; page 2 workers / 1: %.2f; 2 workers / one at a time: %.2f; page 2 workers / bagnet teach: %.2f (one at a time: %.2f)",
		c, p1, p2, p2e, p2/p1, p2/p2e, p2/c, p2e/c)
}
