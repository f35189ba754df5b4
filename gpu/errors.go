package gpu

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// Sentinel errors. Every error from this package wraps one of them (through
// a *ModelError where a stage is known), so callers can test with errors.Is.
var (
	// ErrNoCgo: this binary was built without cgo, and model stages need it.
	ErrNoCgo = errors.New("wasinfer was built without cgo: model stages need a cgo build; rebuild with CGO_ENABLED=1")
	// ErrLibrary: the ONNX Runtime shared library was not found or does not load.
	ErrLibrary = errors.New("gpu: ONNX Runtime library")
	// ErrModel: the model file is missing, unreadable, not ONNX, or does not
	// fit the stage's mapping.
	ErrModel = errors.New("gpu: model refused")
	// ErrExternalData: the model names external data outside its directory.
	ErrExternalData = errors.New("gpu: model refused: external data outside the model's directory")
	// ErrDevice: a device that does not exist or cannot be used.
	ErrDevice = errors.New("gpu: device")
	// ErrOption: an option out of range.
	ErrOption = errors.New("gpu: option")
	// ErrBinding: a batch's columns do not fit the model's inputs, or the
	// model's outputs do not fit a batch.
	ErrBinding = errors.New("gpu: binding")
	// ErrClosed is returned by Transform after Close.
	ErrClosed = errors.New("gpu: model stage closed")
)

// ErrorKind classifies a ModelError.
type ErrorKind int

// Error kinds.
const (
	// KindLoad: the stage could not start (model refused, library missing,
	// device missing, session creation or warm-up failed).
	KindLoad ErrorKind = iota + 1
	// KindBind: the batch does not fit the model's inputs (names, element
	// types, shapes, nulls), or an output does not fit the batch. The
	// data's fault: not transient.
	KindBind
	// KindRun: ONNX Runtime refused or failed the run. Not transient.
	KindRun
	// KindCrash: the actor panicked; it was restarted, so a retry may succeed.
	KindCrash
	// KindCanceled: the caller's context ended during the run, which was
	// stopped.
	KindCanceled
)

var kindNames = [...]string{"", "load", "binding", "run", "actor crashed", "canceled"}

func (k ErrorKind) String() string {
	if k > 0 && int(k) < len(kindNames) {
		return kindNames[k]
	}
	return "kind(" + strconv.Itoa(int(k)) + ")"
}

// ModelError is the error of a model stage that failed to load or to run a
// batch.
type ModelError struct {
	Stage string    // the stage's name (WithName)
	Batch int64     // the caller's batch number, or -1 outside a batch
	Actor int       // the actor that ran the batch, or -1
	Kind  ErrorKind // what went wrong
	Err   error     // the cause
}

func (e *ModelError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "model stage %q: ", e.Stage)
	if e.Batch >= 0 {
		fmt.Fprintf(&b, "batch %d: ", e.Batch)
	}
	if e.Actor >= 0 {
		fmt.Fprintf(&b, "actor %d: ", e.Actor)
	}
	// Load and binding errors say what they are ("gpu: model refused: ...",
	// "gpu: binding: ..."); the other kinds are named.
	if e.Kind != KindLoad && e.Kind != KindBind || e.Err == nil {
		b.WriteString(e.Kind.String())
		if e.Err != nil {
			b.WriteString(": ")
		}
	}
	if e.Err != nil {
		b.WriteString(e.Err.Error())
	}
	return b.String()
}

func (e *ModelError) Unwrap() error { return e.Err }

// Transient reports whether a retry of the same batch may succeed: the actor
// crashed and was restarted. It is the scheduler's retry signal
// (scheduler.Stage). Binding and run errors are the data's fault.
func (e *ModelError) Transient() bool { return e.Kind == KindCrash }
