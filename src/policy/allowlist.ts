/**
 * The allowlist (DESIGN.md principle 4): the exact importables a plain-data pickle or a PyTorch /
 * NumPy weights pickle needs, and nothing that can run code of the file's choosing. A pickle is
 * *safe* only if every global it reaches is here.
 *
 * The bar for an entry: whatever arguments the file passes, calling it (or constructing it and then
 * applying `BUILD` state) only builds data. Some entries forward a call to another object the file
 * supplies (`copyreg._reconstructor` calls `base.__new__`, the NumPy RNG constructors instantiate a
 * class); that is acceptable because the file can only obtain such an object through another
 * global, which is classified on its own, and no entry turns data (a string) into a callable.
 *
 * Matching is exact on `module` and `name` (no prefixes, no attribute chains); the families that
 * look like patterns (dtypes, storages) are spelled out below. Entries deliberately left out, with
 * the reason, are in {@link REFUSED_GLOBALS}.
 */

import { mapPython2Name, PYTHON2_NAME_RENAMES, python2ModuleSpellings } from "./compat.js";
import { TORCH_CUDA_STORAGES, TORCH_STORAGE_ELEMENT_SIZE } from "./torch-storages.js";

export interface AllowEntry {
  /** Exact importable, `module.name`; `name` is a single attribute (no dots). */
  name: string;
  /** Why it is safe, in the user's terms. */
  reason: string;
}

const entry = (name: string, reason: string): AllowEntry => ({ name, reason });
const family = (names: readonly string[], reason: string): AllowEntry[] =>
  names.map((name) => entry(name, reason));

const BUILTIN_DATA =
  "Built-in container or scalar type; calling it only builds a value from the given data.";

const BUILTINS: AllowEntry[] = [
  ...family(
    [
      "builtins.dict",
      "builtins.list",
      "builtins.set",
      "builtins.frozenset",
      "builtins.tuple",
      "builtins.bytearray",
      "builtins.bytes",
      "builtins.str",
      "builtins.int",
      "builtins.float",
      "builtins.complex",
      "builtins.bool",
      "builtins.slice",
      "builtins.range",
    ],
    BUILTIN_DATA,
  ),
  entry(
    "builtins.object",
    "The base class; protocol 0/1 pickles pass it to `copyreg._reconstructor` as the base whose " +
      "`__new__` builds the instance. `object()` itself does nothing.",
  ),
  entry("builtins.Ellipsis", "The `...` singleton, pickled by name; not callable."),
  entry(
    "builtins.NotImplemented",
    "The `NotImplemented` singleton, pickled by name; not callable.",
  ),
  entry(
    "collections.OrderedDict",
    "Ordered dict: the container of every `state_dict`; building it only stores keys and values.",
  ),
  entry(
    "_codecs.encode",
    "How protocol 2 pickles carry `bytes`: `_codecs.encode(text, 'latin1')`. Expected encoding is " +
      "`latin1`; any other name only selects a codec from Python's own `encodings` package, which " +
      "transforms data and runs nothing of the file's choosing.",
  ),
  entry(
    "copyreg._reconstructor",
    "Protocol 0/1 object rebuild: `base.__new__(cls)` (+ `base.__init__(obj, state)` for " +
      "extension types). It only instantiates `cls`/`base`, which the file must name as globals of " +
      "their own — safe only as far as those are; they are classified separately.",
  ),
  entry(
    "copyreg.__newobj__",
    "`cls.__new__(cls, *args)`, the function form of the NEWOBJ opcode; instantiates a class the " +
      "file must name as a separate global.",
  ),
  entry(
    "copyreg.__newobj_ex__",
    "`cls.__new__(cls, *args, **kwargs)`, the function form of NEWOBJ_EX; instantiates a class the " +
      "file must name as a separate global.",
  ),
];

const REBUILD =
  "PyTorch tensor rebuild helper (`torch.save` format); builds a tensor from storage.";

const TORCH_REBUILD: AllowEntry[] = [
  entry("torch._utils._rebuild_tensor", `${REBUILD} Legacy form.`),
  entry(
    "torch._utils._rebuild_tensor_v2",
    `${REBUILD} The \`backward_hooks\` argument is only stored (hooks run during backward, and a ` +
      "hook callable would itself be a separate global).",
  ),
  entry("torch._utils._rebuild_tensor_v3", `${REBUILD} Takes the dtype explicitly.`),
  entry(
    "torch._utils._rebuild_parameter",
    "Wraps a rebuilt tensor as `nn.Parameter`; hooks are only stored.",
  ),
  entry(
    "torch._utils._rebuild_parameter_with_state",
    "Wraps a rebuilt tensor as `nn.Parameter` and sets Python attributes on that fresh Parameter " +
      "only (never on another object).",
  ),
  entry("torch._utils._rebuild_sparse_tensor", "Builds a sparse tensor from indices and values."),
  entry(
    "torch._utils._rebuild_sparse_csr_tensor",
    "Builds a compressed-sparse (CSR) tensor from its index and value tensors (torch 1.13).",
  ),
  entry("torch._utils._rebuild_qtensor", "Builds a quantized tensor from storage and quantizer."),
  entry("torch._utils._rebuild_nested_tensor", "Builds a nested tensor view over a buffer tensor."),
  entry(
    "torch._utils._rebuild_meta_tensor_no_storage",
    "Builds an empty tensor on the `meta` device (shape and dtype only).",
  ),
  entry(
    "torch._utils._rebuild_device_tensor_from_numpy",
    "Converts a NumPy array to a tensor on a device (XLA/ORT-style checkpoints).",
  ),
  entry(
    "torch._utils._rebuild_xla_tensor",
    "Old name of `_rebuild_device_tensor_from_numpy`, kept by PyTorch for old checkpoints.",
  ),
  entry(
    "torch._utils._rebuild_device_tensor_from_cpu_tensor",
    "Moves a rebuilt CPU tensor to the recorded device.",
  ),
  entry(
    "torch._utils._rebuild_wrapper_subclass",
    "Allocates a tensor-subclass wrapper (`Tensor._make_wrapper_subclass`) of a class the file " +
      "names as a separate global; runs no Python code of that class.",
  ),
  entry(
    "torch.serialization._get_layout",
    "Looks a tensor layout up by its name among torch's own layouts.",
  ),
];

const TENSOR_KINDS = [
  "Double",
  "Float",
  "Half",
  "BFloat16",
  "Long",
  "Int",
  "Short",
  "Char",
  "Byte",
  "Bool",
] as const;

/** `torch.dtype` attributes of `torch`, canonical names and aliases (`float` = `float32`). */
const TORCH_DTYPES = [
  "float32",
  "float",
  "float64",
  "double",
  "float16",
  "half",
  "bfloat16",
  "complex32",
  "chalf",
  "complex64",
  "cfloat",
  "complex128",
  "cdouble",
  "uint8",
  "int8",
  "int16",
  "short",
  "int32",
  "int",
  "int64",
  "long",
  "bool",
  "qint8",
  "quint8",
  "qint32",
  "quint4x2",
  "quint2x4",
  "float8_e4m3fn",
  "float8_e4m3fnuz",
  "float8_e5m2",
  "float8_e5m2fnuz",
  "float8_e8m0fnu",
  "float4_e2m1fn_x2",
  "uint16",
  "uint32",
  "uint64",
  "uint1",
  "uint2",
  "uint3",
  "uint4",
  "uint5",
  "uint6",
  "uint7",
  "int1",
  "int2",
  "int3",
  "int4",
  "int5",
  "int6",
  "int7",
  "bits1x8",
  "bits2x4",
  "bits4x2",
  "bits8",
  "bits16",
] as const;

const TORCH_TYPES: AllowEntry[] = [
  ...family(
    Object.keys(TORCH_STORAGE_ELEMENT_SIZE)
      .filter((k) => k !== "UntypedStorage")
      .map((k) => `torch.${k}`),
    "Typed storage class named in `torch.save` persistent ids; only tags the storage dtype.",
  ),
  ...family(
    TORCH_CUDA_STORAGES.map((k) => `torch.cuda.${k}`),
    "Legacy CUDA typed storage class named by old GPU checkpoints; only tags the storage dtype.",
  ),
  ...family(
    ["torch.storage.UntypedStorage", "torch.storage.TypedStorage"],
    "Storage class named in `torch.save` persistent ids; the bytes come from the archive.",
  ),
  ...family(
    ["torch.UntypedStorage", "torch.TypedStorage"],
    "Storage class (re-exported name); the bytes come from the archive.",
  ),
  ...family(
    [
      ...TENSOR_KINDS.map((k) => `torch.${k}Tensor`),
      ...TENSOR_KINDS.map((k) => `torch.cuda.${k}Tensor`),
    ],
    "Legacy tensor type object; constructing it only allocates a tensor.",
  ),
  ...family(
    TORCH_DTYPES.map((d) => `torch.${d}`),
    "A `torch.dtype` constant; not callable.",
  ),
  ...family(
    [
      "torch.per_tensor_affine",
      "torch.per_tensor_symmetric",
      "torch.per_channel_affine",
      "torch.per_channel_symmetric",
      "torch.per_channel_affine_float_qparams",
    ],
    "A quantization scheme constant; not callable.",
  ),
  ...family(
    [
      "torch.strided",
      "torch.sparse_coo",
      "torch.sparse_csr",
      "torch.sparse_csc",
      "torch.sparse_bsr",
      "torch.sparse_bsc",
      "torch._mkldnn",
      "torch.jagged",
    ],
    "A tensor layout constant; not callable.",
  ),
  ...family(
    [
      "torch.contiguous_format",
      "torch.channels_last",
      "torch.channels_last_3d",
      "torch.preserve_format",
    ],
    "A memory-format constant; not callable.",
  ),
  entry("torch.Size", "Tensor shape (a tuple of ints)."),
  entry("torch.device", "Device descriptor such as `cuda:0`; constructing it touches no device."),
  entry("torch.Tensor", "The tensor class; constructing one only allocates memory."),
  entry("torch._tensor.Tensor", "The tensor class under its defining module."),
  entry(
    "torch.nn.parameter.Parameter",
    "`nn.Parameter(data, requires_grad)`: wraps a tensor; allowed by PyTorch's own weights-only " +
      "loader.",
  ),
];

const NUMPY_REBUILD: AllowEntry[] = [
  ...family(
    ["numpy.core.multiarray._reconstruct", "numpy._core.multiarray._reconstruct"],
    "NumPy array rebuild: `ndarray.__new__(subtype, shape, dtype)`; data arrives via `BUILD`.",
  ),
  ...family(
    ["numpy.core.multiarray.scalar", "numpy._core.multiarray.scalar"],
    "NumPy scalar rebuild from a dtype and raw bytes (an object-dtype scalar is just the object " +
      "given, which the pickle built itself).",
  ),
  ...family(
    ["numpy.core.numeric._frombuffer", "numpy._core.numeric._frombuffer"],
    "Protocol 5 NumPy array rebuild from an out-of-band or in-band buffer.",
  ),
  entry("numpy.dtype", "NumPy dtype descriptor; builds a type description from its arguments."),
  entry("numpy.ndarray", "NumPy array class, passed to `_reconstruct` as the array subtype."),
  entry(
    "joblib.numpy_pickle.NumpyArrayWrapper",
    "joblib's array placeholder: holds only shape, dtype and order; joblib then reads the array's " +
      "raw bytes (or, for object arrays, a nested pickle that modelvet analyses too).",
  ),
  entry(
    "numpy.random._pickle.__bit_generator_ctor",
    "NumPy bit-generator rebuild. Looks the generator up by name (NumPy < 1.25) or instantiates the " +
      "class it is given with no arguments (NumPy >= 1.25); that class is a separate global.",
  ),
  entry(
    "numpy.random._pickle.__generator_ctor",
    "NumPy `Generator` rebuild. Newer NumPy also accepts a constructor callable, which it calls " +
      "with one argument; the file can only supply one as a separate global, classified on its own.",
  ),
  entry(
    "numpy.random._pickle.__randomstate_ctor",
    "NumPy `RandomState` rebuild (same shape as `__generator_ctor`; state arrives via `BUILD`).",
  ),
  entry(
    "numpy.random.__RandomState_ctor",
    "`RandomState` rebuild used by NumPy < 1.17; takes no arguments.",
  ),
  ...family(
    [
      "bool_",
      "bool",
      "int8",
      "int16",
      "int32",
      "int64",
      "uint8",
      "uint16",
      "uint32",
      "uint64",
      "float16",
      "float32",
      "float64",
      "longdouble",
      "complex64",
      "complex128",
      "clongdouble",
      "intc",
      "uintc",
      "intp",
      "uintp",
      "longlong",
      "ulonglong",
      "half",
      "single",
      "double",
      "str_",
      "bytes_",
      "datetime64",
      "timedelta64",
    ].map((t) => `numpy.${t}`),
    "NumPy scalar type (e.g. a `dtype=np.float64` estimator parameter); builds a number.",
  ),
];

const BASE: AllowEntry[] = [...BUILTINS, ...TORCH_REBUILD, ...TORCH_TYPES, ...NUMPY_REBUILD];

/** Python 2 spellings (`__builtin__.set`, `copy_reg._reconstructor`, `__builtin__.unicode`…). */
function python2Twins(base: readonly AllowEntry[]): AllowEntry[] {
  const allowed = new Set(base.map((e) => e.name));
  const twins: AllowEntry[] = [];
  for (const e of base) {
    const dot = e.name.lastIndexOf(".");
    const module = e.name.slice(0, dot);
    const name = e.name.slice(dot + 1);
    for (const py2 of python2ModuleSpellings(module)) {
      twins.push(entry(`${py2}.${name}`, `Python 2 spelling of \`${e.name}\`. ${e.reason}`));
    }
  }
  for (const [fromModule, fromName] of PYTHON2_NAME_RENAMES) {
    const mapped = mapPython2Name(fromModule, fromName);
    if (mapped === null) continue;
    const target = `${mapped.module}.${mapped.name}`;
    const twin = `${fromModule}.${fromName}`;
    if (allowed.has(target) && !twins.some((t) => t.name === twin)) {
      twins.push(entry(twin, `Python 2 name that Python 3 loads as \`${target}\`.`));
    }
  }
  return twins;
}

/** Every allowlisted importable, Python 2 spellings included. */
export const ALLOWED_GLOBALS: readonly AllowEntry[] = [...BASE, ...python2Twins(BASE)];

/**
 * Importables a reviewer might expect on the allowlist but that are deliberately NOT there. They
 * are classed `unknown` (medium) with this reason instead of the generic one; a user who trusts a
 * source can allow them with `extraAllowed`.
 */
export const REFUSED_GLOBALS: readonly AllowEntry[] = [
  entry(
    "torch._tensor._rebuild_from_type_v2",
    "Rebuilds a tensor subclass by calling a function the file chooses with arguments the file " +
      "chooses, then sets arbitrary attributes on the result. Common for tensors that carry Python " +
      "attributes, but it is a general call-and-setattr primitive, so it is not allowlisted.",
  ),
  entry(
    "torch._utils._rebuild_from_type",
    "Older form of `torch._tensor._rebuild_from_type_v2`: calls a file-chosen function with " +
      "file-chosen arguments, then updates the result's `__dict__`.",
  ),
  entry(
    "functools.partial",
    "Wraps any callable with preset arguments, including keyword arguments a plain REDUCE cannot " +
      "pass (a known way to call `torch.load(..., weights_only=False)`). The wrapped callable is a " +
      "separate global, but the wrapper hides where and how it is called.",
  ),
  entry(
    "functools.reduce",
    "Calls a file-chosen function repeatedly over file-chosen data (`__builtin__.reduce` in " +
      "Python 2 pickles).",
  ),
  entry(
    "operator.call",
    "Calls a file-chosen callable with file-chosen arguments (Python 3.11+): the callable is a " +
      "separate global or value, but the call no longer looks like one.",
  ),
  entry("_operator.call", "C implementation of `operator.call`: calls a file-chosen callable."),
  entry("builtins.map", "Calls a file-chosen function over file-chosen data."),
  entry("builtins.filter", "Calls a file-chosen function over file-chosen data."),
  entry(
    "builtins.type",
    "With three arguments builds a new class from a file-chosen name, bases and namespace.",
  ),
  entry(
    "collections.namedtuple",
    "Class factory that generates and evaluates source code internally from its arguments.",
  ),
];

/**
 * Exact names allowed although their module is denied as a whole. Kept tiny and exact: each is a
 * pure function of its argument that the module's own pickles name. (Deny otherwise beats allow.)
 */
export const CARVED_OUT_OF_DENIED: readonly AllowEntry[] = Object.freeze(
  ["build_intlist", "build_tensorlist", "build_doublelist", "build_boollist"]
    .map((fn) =>
      entry(
        `torch.jit._pickle.${fn}`,
        "Returns its argument unchanged; TorchScript archives' own pickles use it to tag list types.",
      ),
    )
    .concat([
      entry(
        "torch.jit._pickle.build_tensor_from_id",
        "Returns the tensor id it is given; used by TorchScript archives' own pickles.",
      ),
      entry(
        "torch.jit._pickle.restore_type_tag",
        "Returns its first argument unchanged (the type tag matters only to the C++ loader).",
      ),
    ]),
);
