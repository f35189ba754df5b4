package wasinfer

import (
	"encoding/json"

	"github.com/apache/arrow-go/v18/arrow"
)

// UDF is a user-defined function over Arrow record batches. Register one
// from an init function of the main package.
type UDF struct {
	// Transform turns one input batch into one output batch. It is required.
	//
	// rec is borrowed: it views the host's input block, is valid only until
	// Transform returns, and must not be released or kept (copy what must
	// outlive the call). Its columns are arrow-go arrays over the bytes the
	// host wrote, not copies. Extension types arrive as their storage type,
	// with the ARROW:extension:name and ARROW:extension:metadata keys in the
	// field metadata.
	//
	// The returned batch passes to the SDK, which releases it once the host
	// has copied it. It may be rec itself, or be built from rec's columns
	// (array.NewRecordBatch retains them): such columns reach the host
	// without a copy. Copy a field's metadata to keep an extension type, or
	// use an arrow.ExtensionType column, whose name and serialized metadata
	// the SDK adds to the field metadata. When Transform is called, the
	// previous call's output has been copied by the host and released, so
	// memory it used may be reused for the next output.
	//
	// A returned error fails the batch with StatusError and the error's text,
	// unless it carries another status (see Errorf); it should name the column
	// and row. A panic is recovered and reported as StatusError with the
	// panic value and stack. Every later schema must equal the first (spec
	// §5.2).
	Transform func(rec arrow.RecordBatch) (arrow.RecordBatch, error)

	// Init receives the stage's configuration, UTF-8 JSON text of an object,
	// once per instance before the first batch; config is empty when the stage
	// has none, and is the caller's to keep. A returned error rejects the
	// configuration (StatusInvalidConfig, unless it carries another status),
	// which fails the stage at load. When Init is nil, the UDF accepts only an
	// empty configuration ("" or "{}").
	Init func(config []byte) error

	// Name, Version, Description, Input and Output are reported by
	// wasinfer_describe (spec §10), e.g. in `wasinfer udf inspect`. They are
	// advisory and all optional.
	Name        string
	Version     string
	Description string
	Input       []Column
	Output      []Column
}

// Column is a column requirement reported by wasinfer_describe.
type Column struct {
	Name string `json:"name"`
	Type string `json:"type"`
}

// registered is the UDF of this module, set once by Register.
var registered *UDF

// Register makes u the UDF of this module. Call it once, from an init
// function of the main package: the host calls the module's exports after the
// Go runtime has run every init function, and never calls main.
//
// Register panics if u.Transform is nil or if a UDF is already registered.
func Register(u UDF) {
	if u.Transform == nil {
		panic("wasinfer: Register: UDF.Transform is nil")
	}
	if registered != nil {
		panic("wasinfer: Register called twice")
	}
	registered = &u
}

// describeJSON is the text wasinfer_describe returns (spec §10).
func (u *UDF) describeJSON() []byte {
	b, err := json.Marshal(struct {
		Name        string   `json:"name,omitempty"`
		Version     string   `json:"version,omitempty"`
		Description string   `json:"description,omitempty"`
		Language    string   `json:"language"`
		Input       []Column `json:"input,omitempty"`
		Output      []Column `json:"output,omitempty"`
	}{u.Name, u.Version, u.Description, "go", u.Input, u.Output})
	if err != nil {
		return []byte(`{"language":"go"}`)
	}
	return b
}
