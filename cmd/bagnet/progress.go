package main

import (
	"fmt"
	"io"
	"os"
	"strings"
	"time"
)

// progress draws a progress bar on stderr. On a terminal it redraws one line
// with '\r' at most five times a second and ends it with a newline; into a
// file or pipe it writes a plain line every logEvery instead, so logs stay
// readable, and nothing at all for runs shorter than that.
type progress struct {
	w       io.Writer
	label   string
	total   int
	tty     bool
	start   time.Time
	last    time.Time
	printed bool
	now     func() time.Time
}

const (
	ttyEvery = 200 * time.Millisecond
	logEvery = 15 * time.Second
	barWidth = 24
)

func newProgress(w io.Writer, label string, total int) *progress {
	p := &progress{w: w, label: label, total: total, tty: isTerminal(w), now: time.Now}
	p.start = p.now()
	p.last = p.start
	return p
}

func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}

// update reports that done of total items are finished.
func (p *progress) update(done int) {
	t := p.now()
	every := logEvery
	if p.tty {
		every = ttyEvery
	}
	if t.Sub(p.last) < every && !(p.tty && !p.printed) {
		return
	}
	p.last = t
	p.draw(done, t)
}

// finish draws the final state and ends the line.
func (p *progress) finish(done int) {
	if !p.printed {
		return
	}
	p.draw(done, p.now())
	if p.tty {
		fmt.Fprintln(p.w)
	}
}

func (p *progress) draw(done int, t time.Time) {
	p.printed = true
	el := t.Sub(p.start).Seconds()
	rate := 0.0
	if el > 0 {
		rate = float64(done) / el
	}
	eta := "ETA --:--"
	if done >= p.total {
		eta = "in " + clock(t.Sub(p.start))
	} else if rate > 0 {
		eta = "ETA " + clock(time.Duration(float64(p.total-done)/rate*float64(time.Second)))
	}
	digits := len(fmt.Sprint(p.total))
	if p.tty {
		fill := 0
		if p.total > 0 {
			fill = min(barWidth, done*barWidth/p.total)
		}
		bar := strings.Repeat("=", fill)
		if fill < barWidth {
			bar += ">" + strings.Repeat(" ", barWidth-fill-1)
		}
		fmt.Fprintf(p.w, "\r%-12s %*d/%d [%s] %.1f img/s %s ", p.label, digits, done, p.total, bar, rate, eta)
		return
	}
	fmt.Fprintf(p.w, "%s %*d/%d %.1f img/s %s\n", p.label, digits, done, p.total, rate, eta)
}

// clock formats d as m:ss or h:mm:ss.
func clock(d time.Duration) string {
	s := int(d.Round(time.Second).Seconds())
	if s >= 3600 {
		return fmt.Sprintf("%d:%02d:%02d", s/3600, s/60%60, s%60)
	}
	return fmt.Sprintf("%d:%02d", s/60, s%60)
}

// forEach calls f(0), ..., f(n-1) on up to workers goroutines and draws a
// progress bar labelled label on w until all have returned.
func forEach(w io.Writer, label string, n, workers int, f func(i int)) {
	queue := make(chan int)
	done := make(chan struct{})
	for range min(workers, n) {
		go func() {
			for i := range queue {
				f(i)
				done <- struct{}{}
			}
		}()
	}
	go func() {
		for i := range n {
			queue <- i
		}
		close(queue)
	}()
	bar := newProgress(w, label, n)
	for k := 1; k <= n; k++ {
		<-done
		bar.update(k)
	}
	bar.finish(n)
}
