package kinderr_test

import (
	"errors"
	"io/fs"
	"testing"

	"github.com/bagnetweb/bagnet/internal/kinderr"
)

func TestError(t *testing.T) {
	kind := errors.New("kind")
	other := errors.New("other")
	cause := &fs.PathError{Op: "open", Path: "x", Err: fs.ErrNotExist}
	for _, tc := range []struct {
		name  string
		err   error
		cause bool
	}{
		{"without a cause", &kinderr.Error{Kind: kind, Msg: "the message"}, false},
		{"with a cause", &kinderr.Error{Kind: kind, Msg: "the message", Cause: cause}, true},
	} {
		if got := tc.err.Error(); got != "the message" {
			t.Errorf("%s: Error() = %q, want only the message", tc.name, got)
		}
		if !errors.Is(tc.err, kind) {
			t.Errorf("%s: does not match its kind", tc.name)
		}
		if errors.Is(tc.err, other) {
			t.Errorf("%s: matches another sentinel", tc.name)
		}
		var pe *fs.PathError
		if got := errors.As(tc.err, &pe); got != tc.cause {
			t.Errorf("%s: errors.As(cause) = %v, want %v", tc.name, got, tc.cause)
		}
		if got := errors.Is(tc.err, fs.ErrNotExist); got != tc.cause {
			t.Errorf("%s: errors.Is(the cause's cause) = %v, want %v", tc.name, got, tc.cause)
		}
	}
}
