package main

import (
	"bytes"
	"compress/gzip"
	"io"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/andybalholm/brotli"
)

func TestCachedCompress(t *testing.T) {
	cache := filepath.Join(t.TempDir(), "cache")
	in := bytes.Repeat([]byte("BagNet in the browser. "), 1000)
	decode := map[string]func(io.Reader) (io.Reader, error){
		".gz": func(r io.Reader) (io.Reader, error) { return gzip.NewReader(r) },
		".br": func(r io.Reader) (io.Reader, error) { return brotli.NewReader(r), nil },
	}
	for _, enc := range []string{".gz", ".br"} {
		first, err := cachedCompress(cache, enc, in)
		if err != nil {
			t.Fatal(err)
		}
		want, _ := compress(enc, in)
		if !bytes.Equal(first, want) {
			t.Errorf("%s: the cached compression differs from compress's", enc)
		}
		r, err := decode[enc](bytes.NewReader(first))
		if err != nil {
			t.Fatal(err)
		}
		if out, err := io.ReadAll(r); err != nil || !bytes.Equal(out, in) {
			t.Errorf("%s: decompressed %d bytes, %v; want the input", enc, len(out), err)
		}
		// The second call reads the entry: mark it to see that.
		ents, _ := filepath.Glob(filepath.Join(cache, "*"+enc))
		if len(ents) != 1 {
			t.Fatalf("%s: cache entries %q, want one", enc, ents)
		}
		os.WriteFile(ents[0], []byte("from the cache"), 0o644)
		if again, _ := cachedCompress(cache, enc, in); string(again) != "from the cache" {
			t.Errorf("%s: the second call did not read the cache", enc)
		}
		// Another input is another entry.
		other, _ := cachedCompress(cache, enc, append(in, '!'))
		if bytes.Equal(other, first) || string(other) == "from the cache" {
			t.Errorf("%s: another input got the same entry", enc)
		}
	}
	// Pruning removes what was not used for the given age only.
	ents, _ := os.ReadDir(cache)
	if len(ents) != 4 {
		t.Fatalf("%d cache entries, want 4", len(ents))
	}
	old := time.Now().Add(-2 * time.Hour)
	os.Chtimes(filepath.Join(cache, ents[0].Name()), old, old)
	pruneCache(cache, time.Hour)
	if after, _ := os.ReadDir(cache); len(after) != 3 {
		t.Errorf("after pruning: %d entries, want 3", len(after))
	}
	// No cache: compress as before, nothing written.
	if c, err := cachedCompress("", ".gz", in); err != nil || len(c) == 0 {
		t.Errorf("no cache: %d bytes, %v", len(c), err)
	}
}
