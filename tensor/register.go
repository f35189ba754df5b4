package tensor

import "github.com/apache/arrow-go/v18/arrow"

// prototype is the instance registered with arrow-go; the registry only uses
// it to call Deserialize, which builds the real type from the storage type
// and the metadata.
var prototype = &FixedShapeType{
	ExtensionBase: arrow.ExtensionBase{Storage: arrow.FixedSizeListOf(1, arrow.PrimitiveTypes.Float32)},
	valueType:     arrow.PrimitiveTypes.Float32,
	shape:         []int{1},
	size:          1,
}

func init() {
	// RegisterExtensionType fails only when the name is taken. When another
	// package (say, a later arrow-go that ships the canonical type) registered
	// arrow.fixed_shape_tensor first, its type stays in the registry, readers
	// produce that type, and Registered reports false. Not panicking keeps
	// such a program working.
	_ = arrow.RegisterExtensionType(prototype)
}

// Registered reports whether the extension type registered with arrow-go
// under [ExtensionName] is this package's, so that the IPC and Parquet readers
// return [*FixedShapeType] columns. It is false only when another package
// registered the name first, or someone unregistered it.
func Registered() bool {
	_, ok := arrow.GetExtensionType(ExtensionName).(*FixedShapeType)
	return ok
}
