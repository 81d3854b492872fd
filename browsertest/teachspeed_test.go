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
// train images each (100 images) in the page with 1 and 2 workers,
// alternating, in rounds, against 'bagnet teach' on the same folder in the
// same run. Every page run must still give the command's file byte for
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
		for _, workers := range []int{1, 2} {
			tb.openQuery(suite.srv.URL, "?workers="+string(rune('0'+workers)))
			t0 := time.Now()
			if err := chromedp.Do(tb.ctx, chromedp.Evaluate[chromedp.Void](`window.bagnetTaught = null`),
				chromedp.SetUploadFiles(chromedp.CSS("#teach-folder"), []string{filepath.Join(parent, name)})); err != nil {
				t.Fatal(err)
			}
			tb.waitFor(taughtJS)
			wall := time.Since(t0)
			s := windowValue[teachState](tb, "bagnetTaught")
			if s.Err != "" || s.Done != 100 || s.SHA256 != hex.EncodeToString(sum[:]) {
				t.Fatalf("%d workers: %+v, want 100 images and bagnet teach's file", workers, s)
			}
			key := "page" + string(rune('0'+workers))
			times[key] = append(times[key], s.Ms/1000)
			learned := windowValue[taughtPatchesState](tb, "bagnetTaughtPatches")
			t.Logf("round %d, %d workers: page %.2f s (of it training and held-out accuracy %.2f s), then what each class learned %.2f s (wall %.2f s in all); held-out %d/%d",
				round+1, workers, s.Ms/1000, s.TrainMs/1000, learned.Ms/1000, wall.Seconds(), s.Correct, s.Images)
		}
	}
	c, p1, p2 := median(times["cli"]), median(times["page1"]), median(times["page2"])
	t.Logf("teaching 100 images (medians of 3): bagnet teach %.2f s, page 1 worker %.2f s, 2 workers %.2f s; page 2 workers / 1: %.2f; page 2 workers / bagnet teach: %.2f",
		c, p1, p2, p2/p1, p2/c)
}
