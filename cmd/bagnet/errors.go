package main

import (
	"errors"
	"fmt"
	"io/fs"
	"path/filepath"
	"strings"
)

// usageError is a mistake in the command line: exit status 2.
type usageError struct{ msg string }

func (e *usageError) Error() string { return e.msg }

func usagef(format string, a ...any) error { return &usageError{fmt.Sprintf(format, a...)} }

// fileError is a failure concerning one file: "bagnet: FILE: PROBLEM".
type fileError struct {
	file string
	err  error
}

func (e *fileError) Error() string { return e.file + ": " + problem(e.file, e.err) }

func (e *fileError) Unwrap() error { return e.err }

func fileErr(file string, err error) error {
	var fe *fileError
	if errors.As(err, &fe) {
		return err
	}
	return &fileError{file, err}
}

func fileErrf(file, format string, a ...any) error {
	return &fileError{file, fmt.Errorf(format, a...)}
}

// errReported is returned by a command that has already printed its errors
// (one line per failed input) and only needs exit status 1.
var errReported = errors.New("errors reported")

// problem turns err into a one-line description without the file name and
// the package prefixes that the file name already makes redundant.
func problem(file string, err error) string {
	var pe *fs.PathError
	if errors.As(err, &pe) && (pe.Path == file || filepath.Clean(pe.Path) == filepath.Clean(file)) {
		return oneLine(pe.Err.Error())
	}
	msg := err.Error()
	if file != "" {
		msg = strings.ReplaceAll(msg, file+": ", "")
	}
	for {
		trimmed := msg
		for _, p := range []string{"weights: ", "pth: ", "preprocess: ", "engine: ", "model: ", "heatmap: "} {
			trimmed = strings.TrimPrefix(trimmed, p)
		}
		if trimmed == msg {
			break
		}
		msg = trimmed
	}
	return oneLine(msg)
}

func oneLine(s string) string {
	s = strings.TrimSpace(s)
	s = strings.ReplaceAll(s, "\r", "")
	return strings.ReplaceAll(s, "\n", "; ")
}
