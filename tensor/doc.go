// Package tensor implements the Arrow canonical extension type
// arrow.fixed_shape_tensor, which arrow-go does not ship.
//
// A column of type [*FixedShapeType] holds one tensor per row, every tensor
// of the same shape. The storage type is fixed_size_list<value_type>[N] with
// N the product of the shape, elements in row-major (C) order, so a model can
// read a whole column as one contiguous buffer ([Values]) and a UDF sees the
// same bytes. The type parameters travel as the field metadata
//
//	ARROW:extension:name     = arrow.fixed_shape_tensor
//	ARROW:extension:metadata = {"shape":[4,4,3],"dim_names":["H","W","C"],"permutation":[...]}
//
// where "dim_names" and "permutation" are optional (see the Arrow canonical
// extensions specification).
//
// Importing the package registers the type with arrow-go
// (arrow.RegisterExtensionType), so the IPC readers, pqarrow (when the Arrow
// schema was stored: pqarrow.WithStoreSchema) and anything else that looks
// the name up with arrow.GetExtensionType rebuild [*FixedShapeType] columns,
// whose arrays are [*FixedShapeArray]. If
// another package registered the name first, its registration stays and
// [Registered] reports false.
//
// # Parquet
//
// Parquet has no tensor type, and pqarrow (arrow-go v18.8.0) cannot write
// tensor columns directly: NewFileWriter fails with "not implemented: support
// for FIXED_SIZE_LIST", because it maps an extension type to a leaf column of
// its storage type. What works (see roundtrip_test.go):
//
//   - write the column as its storage, fixed_size_list<value_type>[N], with
//     the field metadata ARROW:extension:name and ARROW:extension:metadata
//     set to ExtensionName and Serialize(), and pqarrow.WithStoreSchema();
//     reading restores the tensor type and its metadata (pqarrow adds the
//     field metadata PARQUET:field_id). Without WithStoreSchema the column
//     reads back as list<element: value_type>, the same values, no tensor
//     metadata;
//   - copy a sliced column to offset 0 first (array.Concatenate of the one
//     array): pqarrow writes a fixed_size_list with a non-zero offset from
//     the start of its child, so the rows come back shifted;
//   - null rows cannot be written: pqarrow refuses them with "lists with
//     non-zero length null components are not supported".
//
// wasinfer's Parquet sink can instead write a tensor column as one
// FIXED_LEN_BYTE_ARRAY value per row (dataset.TensorLayoutBinary), which
// reads back several times faster and holds null rows; see the dataset
// package.
//
// Types are immutable and safe for concurrent use. Arrays follow arrow-go's
// reference counting: who creates or Retains one Releases it.
package tensor
