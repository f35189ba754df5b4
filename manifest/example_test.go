package manifest_test

import (
	"fmt"

	"github.com/wasinfer/wasinfer/manifest"
)

func Example() {
	m, err := manifest.Parse([]byte(`{
	  "name": "argmax", "version": "1.0.0", "license": "MIT", "abi": "v1", "language": "c",
	  "description": "index of the largest score of each row",
	  "inputs":  [{"name": "scores", "type": "list<float32>", "nullable": true}],
	  "outputs": [{"name": "argmax", "type": "int32", "nullable": true}],
	  "capabilities": [],
	  "resources": {"memory_bytes": 1048576, "ns_per_row": 100}
	}`))
	if err != nil {
		fmt.Println(err)
		return
	}
	typ, _ := manifest.ParseType(m.Inputs[0].Type)
	fmt.Println(m.Name, m.Version, typ.Kind, typ.Elem.Kind)

	_, err = manifest.Parse([]byte(`{"name": "argmax", "vers": "1.0.0"}`))
	fmt.Println(err)
	// Output:
	// argmax 1.0.0 list float32
	// manifest: line 1, column 20: unknown field "vers" (known: name, version, description, license, abi, language, source, inputs, outputs, config, capabilities, resources, vectors, rejects, code_sha256)
}

func ExampleEmbed() {
	module := []byte("\x00asm\x01\x00\x00\x00") // an empty module
	packed, _ := manifest.Embed(module, []byte(`{"name":"x"}`))
	data, err := manifest.Extract(packed)
	fmt.Printf("%s %v\n", data, err)

	packed[len(module)+25] ^= 1 // flip a byte of the embedded JSON
	_, err = manifest.Extract(packed)
	fmt.Println(err != nil)
	// Output:
	// {"name":"x"} <nil>
	// true
}
