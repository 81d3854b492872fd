// Package fetch downloads files such as the authors' PyTorch checkpoints:
// into NAME.part beside the destination, resuming an interrupted download
// with an HTTP range request (or starting over when the server ignores it),
// and renaming to the destination only once the file is complete and its
// SHA-256 agrees with the hash torch.hub's naming convention puts in the
// name ("bagnet32-2ddd53ed.pth.tar"). A half or damaged file is therefore
// never used under the real name.
package fetch

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/bagnetweb/bagnet/weights/pth"
)

// Options tune File.
type Options struct {
	Client  *http.Client // default: http.DefaultClient
	Retries int          // further attempts after a broken transfer (default 0)
	Backoff time.Duration
	Log     io.Writer // progress notes; nil: none
}

// Name is the file name a URL downloads to: the last element of its path.
func Name(url string) string {
	u := url
	if i := strings.IndexAny(u, "?#"); i >= 0 {
		u = u[:i]
	}
	return path.Base(u)
}

// File downloads url to dst. An existing dst is checked (its hash against
// its name) and kept; a dst+".part" left by an interrupted run is resumed.
func File(ctx context.Context, url, dst string, o Options) error {
	if o.Client == nil {
		o.Client = http.DefaultClient
	}
	logf := func(format string, a ...any) {
		if o.Log != nil {
			fmt.Fprintf(o.Log, format+"\n", a...)
		}
	}
	if st, err := os.Stat(dst); err == nil && st.Mode().IsRegular() {
		if err := checkHash(dst); err != nil {
			return fmt.Errorf("%s: %v (delete it and run again)", dst, err)
		}
		logf("%s: already there", dst)
		return nil
	}
	part := dst + ".part"
	var err error
	for attempt := 0; ; attempt++ {
		err = once(ctx, o.Client, url, part, logf)
		if err == nil || attempt >= o.Retries || !retryable(err) || ctx.Err() != nil {
			break
		}
		logf("%s: %v; retrying (%d of %d)", url, err, attempt+1, o.Retries)
		time.Sleep(o.Backoff << attempt)
	}
	if err != nil {
		return fmt.Errorf("%s: %w", url, err)
	}
	if err := checkHash(part); err != nil {
		os.Remove(part)
		return fmt.Errorf("%s: %v; the download was deleted", url, err)
	}
	if err := os.Rename(part, dst); err != nil {
		return err
	}
	return nil
}

func checkHash(p string) error {
	f, err := os.Open(p)
	if err != nil {
		return err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return err
	}
	// The hash is in the real name, not in NAME.part.
	return pth.CheckHubHash(strings.TrimSuffix(filepath.Base(p), ".part"), hex.EncodeToString(h.Sum(nil)))
}

// statusError is an HTTP response that is not the file.
type statusError struct{ code int }

func (e *statusError) Error() string {
	return fmt.Sprintf("HTTP status %d %s", e.code, http.StatusText(e.code))
}

// retryable: broken transfers and server errors, not a 404.
func retryable(err error) bool {
	var se *statusError
	if errors.As(err, &se) {
		return se.code >= 500
	}
	return !errors.Is(err, context.Canceled)
}

// once makes one request, appending to part when the server honours the
// range, rewriting it when it sends the whole file.
func once(ctx context.Context, c *http.Client, url, part string, logf func(string, ...any)) error {
	var off int64
	if st, err := os.Stat(part); err == nil {
		off = st.Size()
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	if off > 0 {
		req.Header.Set("Range", fmt.Sprintf("bytes=%d-", off))
	}
	resp, err := c.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	var total int64 = -1
	flags := os.O_WRONLY | os.O_CREATE
	switch resp.StatusCode {
	case http.StatusOK:
		if off > 0 {
			logf("%s: the server sent the whole file: starting over", part)
		}
		off, total = 0, resp.ContentLength
		flags |= os.O_TRUNC
	case http.StatusPartialContent:
		start, t, ok := contentRange(resp.Header.Get("Content-Range"))
		if !ok || start != off {
			os.Remove(part) // a range we did not ask for: start over next time
			return fmt.Errorf("bad Content-Range %q for a resume at byte %d", resp.Header.Get("Content-Range"), off)
		}
		logf("%s: resuming at byte %d", part, off)
		total = t
		flags |= os.O_APPEND
	case http.StatusRequestedRangeNotSatisfiable:
		if _, t, ok := contentRange(resp.Header.Get("Content-Range")); ok && t == off {
			return nil // the part file is already complete
		}
		os.Remove(part)
		return fmt.Errorf("the server refused a resume at byte %d", off)
	default:
		return &statusError{resp.StatusCode}
	}
	f, err := os.OpenFile(part, flags, 0o644)
	if err != nil {
		return err
	}
	n, err := io.Copy(f, resp.Body)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("after %d bytes: %w", off+n, err)
	}
	if total >= 0 && off+n != total {
		return fmt.Errorf("got %d of %d bytes", off+n, total)
	}
	return nil
}

// contentRange parses "bytes START-END/TOTAL" or "bytes */TOTAL" (START
// is -1 then); TOTAL "*" gives -1.
func contentRange(s string) (start, total int64, ok bool) {
	rest, found := strings.CutPrefix(s, "bytes ")
	if !found {
		return 0, 0, false
	}
	rng, tot, found := strings.Cut(rest, "/")
	if !found {
		return 0, 0, false
	}
	total = -1
	if tot != "*" {
		t, err := strconv.ParseInt(tot, 10, 64)
		if err != nil {
			return 0, 0, false
		}
		total = t
	}
	if rng == "*" {
		return -1, total, true
	}
	a, _, found := strings.Cut(rng, "-")
	st, err := strconv.ParseInt(a, 10, 64)
	if !found || err != nil {
		return 0, 0, false
	}
	return st, total, true
}
