//go:build !cgo

package gpu

import (
	"context"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
)

// Pool is a model stage. In a build without cgo it cannot be made: Load
// returns [ErrNoCgo].
type Pool struct{}

// Startup reports how long Load took to make the stage ready.
type Startup struct {
	Total   time.Duration
	Library string
	Version string
	Cached  bool
	Actors  []ActorStartup
}

// ActorStartup is one actor's start-up.
type ActorStartup struct {
	Device  Device
	Session time.Duration
	Warmup  time.Duration
}

// Load returns a *ModelError wrapping [ErrNoCgo]: model stages need ONNX
// Runtime, which this build cannot call.
func Load(_ context.Context, path string, opts ...Option) (*Pool, error) {
	cfg := defaults(path)
	for _, o := range opts {
		o(&cfg)
	}
	if err := cfg.check(); err != nil {
		return nil, &ModelError{Stage: cfg.name, Batch: -1, Actor: -1, Kind: KindLoad, Err: err}
	}
	return nil, &ModelError{Stage: cfg.name, Batch: -1, Actor: -1, Kind: KindLoad, Err: ErrNoCgo}
}

// LoadedLibrary returns "", "": a build without cgo loads no library.
func LoadedLibrary() (path, version string) { return "", "" }

// Name returns "".
func (*Pool) Name() string { return "" }

// Concurrency returns 0.
func (*Pool) Concurrency() int { return 0 }

// Startup returns the zero report.
func (*Pool) Startup() Startup { return Startup{} }

// Model returns nil.
func (*Pool) Model() *ModelInfo { return nil }

// Devices returns nil.
func (*Pool) Devices() []Device { return nil }

// IntraOpThreads returns 0.
func (*Pool) IntraOpThreads() int { return 0 }

// Check returns [ErrNoCgo].
func (*Pool) Check(*arrow.Schema) error { return ErrNoCgo }

// Transform returns [ErrNoCgo].
func (*Pool) Transform(context.Context, int64, arrow.RecordBatch) (arrow.RecordBatch, error) {
	return nil, ErrNoCgo
}

// Close returns nil.
func (*Pool) Close(context.Context) error { return nil }

// Resources returns 0, 0.
func (*Pool) Resources() (cpus float64, gpus int) { return 0, 0 }
