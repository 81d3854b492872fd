package browsertest

import (
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// TestRunWorkerCrash crashes the inference worker (the test hook) in the
// middle of a folder batch and of teaching. The batch lists the image the
// worker had, says the worker was restarted, and classifies the rest on
// the new worker; teaching stops with a clear message (the worker's
// features are gone). Neither waits forever. (That the restarted worker
// then classifies as before is TestWorkerCrash's.)
func TestRunWorkerCrash(t *testing.T) {
	t.Parallel() // independent tabs (see newTab)
	tb := newTab(t)
	tb.openQuery(suite.srv.URL, "?testhooks=1")
	crashWhen := func(cond string) {
		t.Helper()
		tb.waitFor(cond)
		if err := chromedp.Do(tb.ctx, chromedp.Evaluate[chromedp.Void](armJS)); err != nil {
			t.Fatal(err)
		}
		tb.post(`{type: "crash"}`)
	}

	parent, name := batchFolder(t, []string{"n01440764", "n02102040", "n02979186"}, 5)
	tb.chooseFolder(filepath.Join(parent, name))
	crashWhen(`window.bagnetBatch && window.bagnetBatch.done >= 2 ? "yes" : ""`)
	if _, ok := tb.tryWaitFor(`window.bagnetBatch && !window.bagnetBatch.running ? "yes" : ""`, 2*time.Minute); !ok {
		t.Fatalf("the batch did not finish after a worker crash: %+v", windowValue[batchState](tb, "bagnetBatch"))
	}
	s := windowValue[batchState](tb, "bagnetBatch")
	table := tb.text("#batch-table tbody")
	if s.Done != s.Total || s.Errors < 1 || s.Errors > 2 || !strings.Contains(table, "restarted") || tb.restarts() != 1 {
		t.Errorf("after a crash mid-batch: %+v, %d restarts; want every image done, 1 or 2 failed saying the worker was restarted; table:\n%s", s, tb.restarts(), table)
	}
	t.Logf("batch: %d of %d classified, %d failed with the crash", s.Done-s.Errors, s.Total, s.Errors)

	tparent, tname, _ := teachFolder(t, map[string]string{"fish": "n01440764", "dog": "n02102040"}, 5)
	// After the batch the page fetches the patch figure's pictures: a
	// folder chosen meanwhile is refused ("Please wait…"), so the test,
	// like a person, chooses it again until teaching starts.
	started := false
	for try := 0; try < 20 && !started; try++ {
		if err := chromedp.Do(tb.ctx, chromedp.Evaluate[chromedp.Void](`window.bagnetTaught = null`),
			chromedp.SetUploadFiles(chromedp.CSS("#teach-folder"), []string{filepath.Join(tparent, tname)})); err != nil {
			t.Fatal(err)
		}
		_, started = tb.tryWaitFor(`window.bagnetTaught ? "yes" : ""`, 2*time.Second)
	}
	if !started {
		t.Fatalf("teaching did not start: #status %q, #error %q", tb.text("#status"), tb.text("#error"))
	}
	crashWhen(`window.bagnetTaught && window.bagnetTaught.done >= 2 ? "yes" : ""`)
	if _, ok := tb.tryWaitFor(`window.bagnetTaught && window.bagnetTaught.error ? "yes" : ""`, 2*time.Minute); !ok {
		t.Fatalf("teaching did not stop after a worker crash: %+v", windowValue[teachState](tb, "bagnetTaught"))
	}
	if ts := windowValue[teachState](tb, "bagnetTaught"); !strings.Contains(ts.Err, "restarted") || ts.SHA256 != "" || ts.Running {
		t.Errorf("teaching after a crash: %+v, want it stopped saying the worker was restarted", ts)
	}
}
