// Command fetch downloads files into a directory, resumably, checking each
// against the SHA-256 prefix in its name (torch.hub's convention) before it
// is used: `make imagenet` fetches the authors' checkpoints with it.
//
//	fetch -dir DIR [-retries N] URL...
//
// Exit status 1 names the first file that could not be fetched.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/bagnetweb/bagnet/internal/fetch"
)

func main() {
	dir := flag.String("dir", ".", "directory to download into")
	retries := flag.Int("retries", 3, "further attempts, resuming, after a broken transfer")
	flag.Parse()
	if flag.NArg() == 0 {
		fmt.Fprintln(os.Stderr, "usage: fetch -dir DIR [-retries N] URL...")
		os.Exit(2)
	}
	if err := os.MkdirAll(*dir, 0o755); err != nil {
		fmt.Fprintf(os.Stderr, "fetch: %v\n", err)
		os.Exit(1)
	}
	client := &httpClient
	for _, u := range flag.Args() {
		dst := filepath.Join(*dir, fetch.Name(u))
		fmt.Fprintf(os.Stderr, "fetch: %s -> %s\n", u, dst)
		err := fetch.File(context.Background(), u, dst, fetch.Options{Client: client, Retries: *retries, Backoff: 2 * time.Second, Log: os.Stderr})
		if err != nil {
			fmt.Fprintf(os.Stderr, "fetch: %v\n", err)
			os.Exit(1)
		}
	}
}
