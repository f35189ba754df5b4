package wasinfer

import (
	"errors"
	"fmt"
	"strconv"
)

// Status is the result code of wasinfer_init and wasinfer_transform
// (spec §8). The host turns a non-zero status into an error that carries the
// guest's message.
type Status int32

// Status codes of ABI v1.
const (
	// StatusOK: success.
	StatusOK Status = 0
	// StatusError: the batch could not be transformed (bad data). The host
	// fails the batch (or routes it to a dead-letter output) and keeps the
	// instance.
	StatusError Status = 1
	// StatusInvalidConfig: Init rejected the configuration.
	StatusInvalidConfig Status = 2
	// StatusUnsupportedInput: the input schema is not one this UDF accepts.
	// The host treats it as fatal for the stage, not as a bad batch.
	StatusUnsupportedInput Status = 3
	// StatusOutOfMemory: an allocation failed.
	StatusOutOfMemory Status = 4
)

func (s Status) String() string {
	switch s {
	case StatusOK:
		return "OK"
	case StatusError:
		return "ERROR"
	case StatusInvalidConfig:
		return "INVALID_CONFIG"
	case StatusUnsupportedInput:
		return "UNSUPPORTED_INPUT"
	case StatusOutOfMemory:
		return "OUT_OF_MEMORY"
	}
	return "ERROR(" + strconv.Itoa(int(s)) + ")"
}

// Error is an error with the status the guest returns for it. Init and
// Transform return one (through Errorf) to choose a status other than the
// default; errors.As finds it through any wrapping.
type Error struct {
	Status Status
	Err    error
}

func (e *Error) Error() string { return e.Err.Error() }
func (e *Error) Unwrap() error { return e.Err }

// Errorf formats an error (as fmt.Errorf does, %w included) that makes the
// guest return status. Use StatusUnsupportedInput for a schema the UDF cannot
// handle and StatusInvalidConfig for a bad configuration:
//
//	return nil, wasinfer.Errorf(wasinfer.StatusUnsupportedInput, "column %q: type %s, want uint8", name, dt)
//
// The message should name the column and, for bad data, the row.
func Errorf(status Status, format string, args ...any) error {
	return &Error{Status: status, Err: fmt.Errorf(format, args...)}
}

// statusOf returns the status an error from Init or Transform maps to: the
// Status of the first *Error in its chain, else def.
func statusOf(err error, def Status) Status {
	var e *Error
	if errors.As(err, &e) && e.Status != StatusOK {
		return e.Status
	}
	return def
}

// unsupported is an input type outside ABI v1; it makes the guest return
// StatusUnsupportedInput.
func unsupported(path, format string, args ...any) error {
	return &Error{Status: StatusUnsupportedInput, Err: pathError(path, fmt.Sprintf(format, args...))}
}

// malformed is a structural error in an ArrowSchema or ArrowArray tree.
func malformed(path, format string, args ...any) error {
	return &Error{Status: StatusError, Err: pathError(path, fmt.Sprintf(format, args...))}
}

func pathError(path, msg string) error {
	if path == "" {
		return errors.New(msg)
	}
	return errors.New("column " + strconv.Quote(path) + ": " + msg)
}

func joinPath(path, name string) string {
	if path == "" {
		return name
	}
	return path + "." + name
}
