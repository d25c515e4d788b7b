/**
 * CPython's marshal format, read as data (never `marshal.loads`): used for the Python bytecode
 * that Keras Lambda layers, dill and cloudpickle carry. Not a format the engine detects on its
 * own; analysers that find marshalled code call {@link readMarshal} and {@link summariseCode}.
 */

export type { MarshalCode, MarshalKind, MarshalValue } from "./marshal-value.js";
export {
  MARSHAL_MAX_DEPTH,
  MARSHAL_MAX_LONG_DIGITS,
  MARSHAL_MAX_OBJECTS,
  type MarshalError,
  type MarshalErrorCode,
  type MarshalRead,
  type MarshalReadOptions,
  readMarshal,
} from "./read-marshal.js";
export {
  bytesRepr,
  type CodeSummary,
  type SummariseOptions,
  summariseCode,
} from "./summarise-code.js";
export {
  CODE_LAYOUTS,
  type CodeLayout,
  FLAG_REF,
  MARSHAL_TYPES,
  type MarshalTypeInfo,
  TYPE_BY_CODE,
} from "./type-codes.js";
