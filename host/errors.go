package host

import (
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/wasinfer/wasinfer/abi"
)

// ErrClosed is returned by Transform after Close.
var ErrClosed = errors.New("host: udf closed")

// ErrorKind classifies a UDFError.
type ErrorKind int

// Error kinds. Every failure of a guest is exactly one of these.
const (
	// KindLoad: the module was refused before it ran (not Wasm, wrong ABI
	// version, missing exports, forbidden imports, too large).
	KindLoad ErrorKind = iota + 1
	// KindInit: _initialize or wasinfer_init failed.
	KindInit
	// KindGuest: wasinfer_transform returned a non-zero status; Message holds
	// the guest's own message. The instance keeps serving.
	KindGuest
	// KindTrap: the guest trapped (unreachable, out-of-bounds access, stack
	// overflow, ...). The instance is replaced.
	KindTrap
	// KindTimeout: the call passed its deadline and was stopped.
	KindTimeout
	// KindMemory: the guest ran out of its memory limit.
	KindMemory
	// KindBadOutput: the output failed validation (spec §6).
	KindBadOutput
	// KindExit: the guest called proc_exit.
	KindExit
	// KindCanceled: the caller's context was canceled during the call.
	KindCanceled
	// KindBadInput: the batch cannot be sent to a guest (a type ABI v1 does
	// not support, or invalid array data).
	KindBadInput
)

var kindNames = [...]string{"", "load", "init", "guest error", "trap", "timeout", "memory limit", "bad output", "exit", "canceled", "bad input"}

func (k ErrorKind) String() string {
	if k > 0 && int(k) < len(kindNames) {
		return kindNames[k]
	}
	return "kind(" + strconv.Itoa(int(k)) + ")"
}

// UDFError is the error of a failed UDF load or call.
type UDFError struct {
	UDF     string     // the UDF's name (WithName)
	Batch   int64      // the caller's batch number, or -1 outside a batch
	Kind    ErrorKind  // what went wrong
	Status  abi.Status // the guest's status, for KindGuest and KindInit
	Message string     // the guest's own message, if it gave one
	Err     error      // the cause, if any
}

func (e *UDFError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "udf %q: ", e.UDF)
	if e.Batch >= 0 {
		fmt.Fprintf(&b, "batch %d: ", e.Batch)
	}
	b.WriteString(e.Kind.String())
	if e.Status != abi.StatusOK {
		fmt.Fprintf(&b, " (status %s)", e.Status)
	}
	if e.Message != "" {
		b.WriteString(": ")
		b.WriteString(e.Message)
	}
	if e.Err != nil {
		b.WriteString(": ")
		b.WriteString(firstLine(e.Err.Error()))
	}
	return b.String()
}

func (e *UDFError) Unwrap() error { return e.Err }

// Replaced reports whether the instance that failed was closed and replaced.
func (e *UDFError) Replaced() bool {
	switch e.Kind {
	case KindTrap, KindTimeout, KindMemory, KindBadOutput, KindExit, KindCanceled:
		return true
	}
	return false
}

// Transient reports whether a retry of the same batch may succeed: the
// instance that failed was replaced, so a fresh one would run the retry. It
// is the scheduler's retry signal (scheduler.Stage). A guest error status is
// not transient: the guest judged the data.
func (e *UDFError) Transient() bool { return e.Replaced() && e.Kind != KindCanceled }

func firstLine(s string) string {
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		return s[:i]
	}
	return s
}
