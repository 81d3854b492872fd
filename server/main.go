// Command server serves the built static site for local use and tests.
//
// Usage:
//
//	go run ./server [-dir dist] [-addr 127.0.0.1:8080] [-quiet]
//	                [-stall-timeout 30s] [-idle-timeout 2m] [-header-timeout 10s]
//
// It prints the URL it serves, logs each request to stderr unless -quiet is
// given, and shuts down gracefully on SIGINT or SIGTERM. A client that stops
// reading a response loses its connection after -stall-timeout; a download
// of any length completes as long as the client keeps reading. See package
// github.com/bagnetweb/bagnet/server/static for what is served and how.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"net"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/bagnetweb/bagnet/server/static"
)

// shutdownTimeout bounds how long shutdown waits for requests in flight.
const shutdownTimeout = 5 * time.Second

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Stderr)
	stop()
	switch {
	case err == nil:
	case errors.Is(err, flag.ErrHelp):
		os.Exit(0)
	default:
		fmt.Fprintln(os.Stderr, "server:", err)
		os.Exit(1)
	}
}

// run parses args, serves until ctx is done, then shuts the server down,
// waiting up to shutdownTimeout for requests in flight to finish.
func run(ctx context.Context, args []string, stderr io.Writer) error {
	flags := flag.NewFlagSet("server", flag.ContinueOnError)
	flags.SetOutput(stderr)
	dir := flags.String("dir", "dist", "directory of the built site")
	addr := flags.String("addr", "127.0.0.1:8080", "host:port to listen on")
	quiet := flags.Bool("quiet", false, "do not log requests")
	t := static.DefaultTimeouts
	flags.DurationVar(&t.Stall, "stall-timeout", t.Stall,
		"close a connection whose client takes no 64 KiB of a response (or sends none of an announced body) for this long")
	flags.DurationVar(&t.Idle, "idle-timeout", t.Idle, "close a kept-alive connection idle for this long")
	flags.DurationVar(&t.Header, "header-timeout", t.Header, "close a connection whose request header takes longer")
	if err := flags.Parse(args); err != nil {
		return err
	}
	if flags.NArg() > 0 {
		return fmt.Errorf("unexpected arguments %q", flags.Args())
	}

	var opts static.Options
	if !*quiet {
		opts.Logger = log.New(stderr, "", log.LstdFlags|log.Lmicroseconds)
	}
	h, err := static.NewHandler(*dir, opts)
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return fmt.Errorf("listen: %w", err)
	}
	srv := static.NewServer(h, t)
	srv.ErrorLog = log.New(stderr, "http: ", log.LstdFlags)
	fmt.Fprintf(stderr, "serving %s at http://%s/\n", *dir, ln.Addr())

	served := make(chan error, 1)
	go func() { served <- srv.Serve(static.Listen(ln, t)) }()
	select {
	case err := <-served:
		return fmt.Errorf("serve: %w", err)
	case <-ctx.Done():
	}
	fmt.Fprintln(stderr, "shutting down")
	sctx, cancel := context.WithTimeout(context.Background(), shutdownTimeout)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		srv.Close()
		return fmt.Errorf("shutdown: %w", err)
	}
	<-served // http.ErrServerClosed
	return nil
}
