// Command identity is the smallest wasinfer UDF: it returns every input batch
// unchanged. The output points at the input's buffers, so nothing is copied
// inside the guest. Build it as a reactor module:
//
//	GOOS=wasip1 GOARCH=wasm go build -buildmode=c-shared -trimpath -ldflags='-s -w' -buildvcs=false -tags arrow_json_stdlib -o identity.wasm .
package main

import (
	"github.com/apache/arrow-go/v18/arrow"

	wasinfer "github.com/wasinfer/wasinfer/sdk/go"
)

// udf is the UDF this module registers; tests run it through a Harness.
var udf = wasinfer.UDF{
	Name:        "identity",
	Version:     "1.0.0",
	Description: "returns every batch unchanged",
	Transform: func(rec arrow.RecordBatch) (arrow.RecordBatch, error) {
		return rec, nil // returning the borrowed input is allowed
	},
}

func init() { wasinfer.Register(udf) }

// main is never called: the module is a reactor, and the host calls its
// exports after the Go runtime has run the init functions.
func main() {}
