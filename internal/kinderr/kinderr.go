// Package kinderr is the error type the file readers (preprocess, weights,
// weights/safetensors) share: a plain message of its own, written for the
// person who picked the file, that matches one of the reader's sentinel
// kinds and, if there is one, the error that caused it.
package kinderr

// Error is an error with message Msg that matches Kind (test with
// errors.Is) and Cause, when it is not nil (errors.Is and errors.As reach
// it too). Msg is the whole message: neither Kind's nor Cause's text is
// added to it.
type Error struct {
	Kind  error
	Msg   string
	Cause error
}

func (e *Error) Error() string { return e.Msg }

// Unwrap returns Kind and, when there is one, Cause.
func (e *Error) Unwrap() []error {
	if e.Cause == nil {
		return []error{e.Kind}
	}
	return []error{e.Kind, e.Cause}
}
