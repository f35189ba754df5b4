// Names, codes and struct layouts of the wasinfer guest ABI v1 (abi/spec.md).
// Every offset below is the wasm32 layout of the Arrow C Data Interface
// structures (spec §4); the host checks the same numbers in abi/abi.go.

/** Status returned by wasinfer_init and wasinfer_transform (spec §8). */
export enum Status {
  /** Success. */
  OK = 0,
  /** The batch could not be transformed (bad data); the message says why. */
  ERROR = 1,
  /** wasinfer_init rejected the configuration. */
  INVALID_CONFIG = 2,
  /** The input schema is not one this UDF accepts (fatal for the stage). */
  UNSUPPORTED_INPUT = 3,
  /** An allocation failed. */
  OUT_OF_MEMORY = 4,
}

// struct ArrowSchema: size 48, align 8.
export const SCHEMA_SIZE: usize = 48;
export const SCHEMA_FORMAT: usize = 0;
export const SCHEMA_NAME: usize = 4;
export const SCHEMA_METADATA: usize = 8;
export const SCHEMA_FLAGS: usize = 16;
export const SCHEMA_N_CHILDREN: usize = 24;
export const SCHEMA_CHILDREN: usize = 32;
export const SCHEMA_DICTIONARY: usize = 36;
export const SCHEMA_RELEASE: usize = 40;
export const SCHEMA_PRIVATE_DATA: usize = 44;

// struct ArrowArray: size 64, align 8.
export const ARRAY_SIZE: usize = 64;
export const ARRAY_LENGTH: usize = 0;
export const ARRAY_NULL_COUNT: usize = 8;
export const ARRAY_OFFSET: usize = 16;
export const ARRAY_N_BUFFERS: usize = 24;
export const ARRAY_N_CHILDREN: usize = 32;
export const ARRAY_BUFFERS: usize = 40;
export const ARRAY_CHILDREN: usize = 44;
export const ARRAY_DICTIONARY: usize = 48;
export const ARRAY_RELEASE: usize = 52;
export const ARRAY_PRIVATE_DATA: usize = 56;

/** ArrowSchema.flags bits. */
export const FLAG_DICTIONARY_ORDERED: i64 = 1;
export const FLAG_NULLABLE: i64 = 2;
export const FLAG_MAP_KEYS_SORTED: i64 = 4;

/** Field metadata keys of extension types (spec §4.2). */
export const EXTENSION_NAME_KEY = "ARROW:extension:name";
export const EXTENSION_METADATA_KEY = "ARROW:extension:metadata";
/** The canonical tensor extension the host registers. */
export const FIXED_SHAPE_TENSOR = "arrow.fixed_shape_tensor";
