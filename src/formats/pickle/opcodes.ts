/**
 * The pickle opcode table for protocols 0–5, after CPython's `Lib/pickletools.py`: data only, no
 * mechanism. The disassembler and the symbolic machine derive their dispatch from it.
 */

/** Pickle protocol versions this table knows (CPython's `HIGHEST_PROTOCOL` is 5). */
export type ProtocolVersion = 0 | 1 | 2 | 3 | 4 | 5;

export const HIGHEST_PROTOCOL: ProtocolVersion = 5;

/** How many bytes an argument takes, as pickletools' `n` (fixed, `UP_TO_NEWLINE`, `TAKEN_FROM_ARGUMENT*`). */
export type ArgumentLength =
  /** Exactly `bytes` bytes. */
  | { readonly type: "fixed"; readonly bytes: 1 | 2 | 4 | 8 }
  /** `lines` newline-terminated lines (GLOBAL and INST take two). */
  | { readonly type: "line"; readonly lines: 1 | 2 }
  /** A little-endian length of `prefixBytes` bytes, then that many bytes. */
  | { readonly type: "prefixed"; readonly prefixBytes: 1 | 4 | 8; readonly signed: boolean };

export interface ArgumentDescriptor {
  /** pickletools' name for the argument type, e.g. `uint1`, `decimalnl_short`. */
  readonly name: string;
  readonly length: ArgumentLength;
  readonly doc: string;
}

/** pickletools' `StackObject`s: what an opcode expects and leaves on the stack. */
export type StackItem =
  | "any"
  | "int"
  | "int_or_bool"
  | "bool"
  | "float"
  | "bytes"
  | "bytes_or_str"
  | "bytearray"
  | "buffer"
  | "str"
  | "None"
  | "tuple"
  | "list"
  | "dict"
  | "set"
  | "frozenset"
  | "mark"
  | "stackslice";

export interface OpcodeInfo {
  readonly name: OpcodeName;
  /** The opcode byte. */
  readonly code: number;
  readonly arg: ArgumentDescriptor | null;
  /** Protocol that introduced the opcode. */
  readonly proto: ProtocolVersion;
  readonly stackBefore: readonly StackItem[];
  readonly stackAfter: readonly StackItem[];
  readonly doc: string;
}

const fixed = (bytes: 1 | 2 | 4 | 8): ArgumentLength => ({ type: "fixed", bytes });
const line: ArgumentLength = { type: "line", lines: 1 };
const linePair: ArgumentLength = { type: "line", lines: 2 };
const prefixed = (prefixBytes: 1 | 4 | 8, signed: boolean): ArgumentLength => ({
  type: "prefixed",
  prefixBytes,
  signed,
});

const arg = (name: string, length: ArgumentLength, doc: string): ArgumentDescriptor =>
  Object.freeze({ name, length: Object.freeze(length), doc });

/** Argument descriptors, named as in pickletools. */
export const ARGUMENTS = Object.freeze({
  uint1: arg("uint1", fixed(1), "One-byte unsigned integer."),
  uint2: arg("uint2", fixed(2), "Two-byte unsigned little-endian integer."),
  int4: arg("int4", fixed(4), "Four-byte signed little-endian integer."),
  uint4: arg("uint4", fixed(4), "Four-byte unsigned little-endian integer."),
  uint8: arg("uint8", fixed(8), "Eight-byte unsigned little-endian integer."),
  float8: arg("float8", fixed(8), "Eight-byte big-endian IEEE 754 double."),
  decimalnl_short: arg(
    "decimalnl_short",
    line,
    "Newline-terminated decimal integer; '00' and '01' mean False and True for INT.",
  ),
  decimalnl_long: arg(
    "decimalnl_long",
    line,
    "Newline-terminated decimal integer, optionally followed by 'L'.",
  ),
  floatnl: arg("floatnl", line, "Newline-terminated decimal float literal."),
  stringnl: arg(
    "stringnl",
    line,
    "Newline-terminated Python string literal (repr), quoted and backslash-escaped.",
  ),
  stringnl_noescape: arg(
    "stringnl_noescape",
    line,
    "Newline-terminated string, no quotes or escapes.",
  ),
  stringnl_noescape_pair: arg(
    "stringnl_noescape_pair",
    linePair,
    "Two newline-terminated strings: a module name and a qualified name.",
  ),
  unicodestringnl: arg(
    "unicodestringnl",
    line,
    "Newline-terminated text in the raw-unicode-escape codec.",
  ),
  string1: arg("string1", prefixed(1, false), "Byte string, one-byte length prefix."),
  string4: arg("string4", prefixed(4, true), "Byte string, four-byte signed length prefix."),
  bytes1: arg("bytes1", prefixed(1, false), "Bytes, one-byte length prefix."),
  bytes4: arg("bytes4", prefixed(4, false), "Bytes, four-byte unsigned length prefix."),
  bytes8: arg("bytes8", prefixed(8, false), "Bytes, eight-byte unsigned length prefix."),
  bytearray8: arg(
    "bytearray8",
    prefixed(8, false),
    "Bytearray contents, eight-byte unsigned length prefix.",
  ),
  unicodestring1: arg("unicodestring1", prefixed(1, false), "UTF-8 text, one-byte length prefix."),
  unicodestring4: arg(
    "unicodestring4",
    prefixed(4, false),
    "UTF-8 text, four-byte unsigned length prefix.",
  ),
  unicodestring8: arg(
    "unicodestring8",
    prefixed(8, false),
    "UTF-8 text, eight-byte unsigned length prefix.",
  ),
  long1: arg(
    "long1",
    prefixed(1, false),
    "Little-endian two's-complement integer, one-byte length prefix.",
  ),
  long4: arg(
    "long4",
    prefixed(4, true),
    "Little-endian two's-complement integer, four-byte signed length prefix.",
  ),
} satisfies Record<string, ArgumentDescriptor>);

export type ArgumentName = keyof typeof ARGUMENTS;

const A = ARGUMENTS;

function op(
  name: OpcodeName,
  code: number,
  argument: ArgumentDescriptor | null,
  proto: ProtocolVersion,
  stackBefore: StackItem[],
  stackAfter: StackItem[],
  doc: string,
): OpcodeInfo {
  return Object.freeze({
    name,
    code,
    arg: argument,
    proto,
    stackBefore: Object.freeze(stackBefore),
    stackAfter: Object.freeze(stackAfter),
    doc,
  });
}

const c = (ch: string): number => ch.charCodeAt(0);

/** Every opcode name, in pickletools' order. */
export const OPCODE_NAMES = [
  "INT",
  "BININT",
  "BININT1",
  "BININT2",
  "LONG",
  "LONG1",
  "LONG4",
  "STRING",
  "BINSTRING",
  "SHORT_BINSTRING",
  "BINBYTES",
  "SHORT_BINBYTES",
  "BINBYTES8",
  "BYTEARRAY8",
  "NEXT_BUFFER",
  "READONLY_BUFFER",
  "NONE",
  "NEWTRUE",
  "NEWFALSE",
  "UNICODE",
  "SHORT_BINUNICODE",
  "BINUNICODE",
  "BINUNICODE8",
  "FLOAT",
  "BINFLOAT",
  "EMPTY_LIST",
  "APPEND",
  "APPENDS",
  "LIST",
  "EMPTY_TUPLE",
  "TUPLE",
  "TUPLE1",
  "TUPLE2",
  "TUPLE3",
  "EMPTY_DICT",
  "DICT",
  "SETITEM",
  "SETITEMS",
  "EMPTY_SET",
  "ADDITEMS",
  "FROZENSET",
  "POP",
  "DUP",
  "MARK",
  "POP_MARK",
  "GET",
  "BINGET",
  "LONG_BINGET",
  "PUT",
  "BINPUT",
  "LONG_BINPUT",
  "MEMOIZE",
  "EXT1",
  "EXT2",
  "EXT4",
  "GLOBAL",
  "STACK_GLOBAL",
  "REDUCE",
  "BUILD",
  "INST",
  "OBJ",
  "NEWOBJ",
  "NEWOBJ_EX",
  "PROTO",
  "STOP",
  "FRAME",
  "PERSID",
  "BINPERSID",
] as const;

export type OpcodeName = (typeof OPCODE_NAMES)[number];

const ANY: StackItem = "any";
const MARK: StackItem = "mark";
const SLICE: StackItem = "stackslice";

/** The opcode table, in pickletools' order. */
export const OPCODES: readonly OpcodeInfo[] = Object.freeze([
  // Integers
  op("INT", c("I"), A.decimalnl_short, 0, [], ["int_or_bool"], "Push an integer or bool."),
  op("BININT", c("J"), A.int4, 1, [], ["int"], "Push a four-byte signed integer."),
  op("BININT1", c("K"), A.uint1, 1, [], ["int"], "Push a one-byte unsigned integer."),
  op("BININT2", c("M"), A.uint2, 1, [], ["int"], "Push a two-byte unsigned integer."),
  op("LONG", c("L"), A.decimalnl_long, 0, [], ["int"], "Push a long integer."),
  op("LONG1", 0x8a, A.long1, 2, [], ["int"], "Long integer using one-byte length."),
  op("LONG4", 0x8b, A.long4, 2, [], ["int"], "Long integer using four-byte length."),
  // Strings and bytes
  op(
    "STRING",
    c("S"),
    A.stringnl,
    0,
    [],
    ["bytes_or_str"],
    "Push a Python 2 string (decoded by the loader's encoding).",
  ),
  op(
    "BINSTRING",
    c("T"),
    A.string4,
    1,
    [],
    ["bytes_or_str"],
    "Push a Python 2 string (decoded by the loader's encoding).",
  ),
  op(
    "SHORT_BINSTRING",
    c("U"),
    A.string1,
    1,
    [],
    ["bytes_or_str"],
    "Push a Python 2 string (decoded by the loader's encoding).",
  ),
  op("BINBYTES", c("B"), A.bytes4, 3, [], ["bytes"], "Push a Python bytes object."),
  op("SHORT_BINBYTES", c("C"), A.bytes1, 3, [], ["bytes"], "Push a Python bytes object."),
  op("BINBYTES8", 0x8e, A.bytes8, 4, [], ["bytes"], "Push a Python bytes object."),
  op("BYTEARRAY8", 0x96, A.bytearray8, 5, [], ["bytearray"], "Push a Python bytearray object."),
  op("NEXT_BUFFER", 0x97, null, 5, [], ["buffer"], "Push an out-of-band buffer object."),
  op(
    "READONLY_BUFFER",
    0x98,
    null,
    5,
    ["buffer"],
    ["buffer"],
    "Make an out-of-band buffer object read-only.",
  ),
  // Constants
  op("NONE", c("N"), null, 0, [], ["None"], "Push None on the stack."),
  op("NEWTRUE", 0x88, null, 2, [], ["bool"], "Push True onto the stack."),
  op("NEWFALSE", 0x89, null, 2, [], ["bool"], "Push False onto the stack."),
  // Unicode
  op("UNICODE", c("V"), A.unicodestringnl, 0, [], ["str"], "Push a Python Unicode string object."),
  op(
    "SHORT_BINUNICODE",
    0x8c,
    A.unicodestring1,
    4,
    [],
    ["str"],
    "Push a Python Unicode string object.",
  ),
  op(
    "BINUNICODE",
    c("X"),
    A.unicodestring4,
    1,
    [],
    ["str"],
    "Push a Python Unicode string object.",
  ),
  op("BINUNICODE8", 0x8d, A.unicodestring8, 4, [], ["str"], "Push a Python Unicode string object."),
  // Floats
  op("FLOAT", c("F"), A.floatnl, 0, [], ["float"], "Newline-terminated decimal float literal."),
  op("BINFLOAT", c("G"), A.float8, 1, [], ["float"], "Float stored in binary form, 8 bytes."),
  // Lists
  op("EMPTY_LIST", c("]"), null, 1, [], ["list"], "Push an empty list."),
  op("APPEND", c("a"), null, 0, ["list", ANY], ["list"], "Append an object to a list."),
  op(
    "APPENDS",
    c("e"),
    null,
    1,
    ["list", MARK, SLICE],
    ["list"],
    "Extend a list by a slice of stack objects.",
  ),
  op(
    "LIST",
    c("l"),
    null,
    0,
    [MARK, SLICE],
    ["list"],
    "Build a list out of the topmost stack slice, after markobject.",
  ),
  // Tuples
  op("EMPTY_TUPLE", c(")"), null, 1, [], ["tuple"], "Push an empty tuple."),
  op(
    "TUPLE",
    c("t"),
    null,
    0,
    [MARK, SLICE],
    ["tuple"],
    "Build a tuple out of the topmost stack slice, after markobject.",
  ),
  op("TUPLE1", 0x85, null, 2, [ANY], ["tuple"], "Build a one-tuple out of the topmost item."),
  op("TUPLE2", 0x86, null, 2, [ANY, ANY], ["tuple"], "Build a two-tuple out of the top two items."),
  op(
    "TUPLE3",
    0x87,
    null,
    2,
    [ANY, ANY, ANY],
    ["tuple"],
    "Build a three-tuple out of the top three items.",
  ),
  // Dicts
  op("EMPTY_DICT", c("}"), null, 1, [], ["dict"], "Push an empty dict."),
  op(
    "DICT",
    c("d"),
    null,
    0,
    [MARK, SLICE],
    ["dict"],
    "Build a dict out of the topmost stack slice, after markobject.",
  ),
  op(
    "SETITEM",
    c("s"),
    null,
    0,
    ["dict", ANY, ANY],
    ["dict"],
    "Add a key+value pair to an existing dict.",
  ),
  op(
    "SETITEMS",
    c("u"),
    null,
    1,
    ["dict", MARK, SLICE],
    ["dict"],
    "Add an arbitrary number of key+value pairs to an existing dict.",
  ),
  // Sets
  op("EMPTY_SET", 0x8f, null, 4, [], ["set"], "Push an empty set."),
  op(
    "ADDITEMS",
    0x90,
    null,
    4,
    ["set", MARK, SLICE],
    ["set"],
    "Add an arbitrary number of items to an existing set.",
  ),
  op(
    "FROZENSET",
    0x91,
    null,
    4,
    [MARK, SLICE],
    ["frozenset"],
    "Build a frozenset out of the topmost slice, after markobject.",
  ),
  // Stack manipulation
  op("POP", c("0"), null, 0, [ANY], [], "Discard the top stack item (or the topmost mark)."),
  op("DUP", c("2"), null, 0, [ANY], [ANY, ANY], "Push the top stack item onto the stack again."),
  op("MARK", c("("), null, 0, [], [MARK], "Push markobject onto the stack."),
  op(
    "POP_MARK",
    c("1"),
    null,
    1,
    [MARK, SLICE],
    [],
    "Pop all the stack objects at and above the topmost markobject.",
  ),
  // Memo
  op("GET", c("g"), A.decimalnl_short, 0, [], [ANY], "Read an object from the memo and push it."),
  op("BINGET", c("h"), A.uint1, 1, [], [ANY], "Read an object from the memo and push it."),
  op("LONG_BINGET", c("j"), A.uint4, 1, [], [ANY], "Read an object from the memo and push it."),
  op("PUT", c("p"), A.decimalnl_short, 0, [], [], "Store the stack top into the memo."),
  op("BINPUT", c("q"), A.uint1, 1, [], [], "Store the stack top into the memo."),
  op("LONG_BINPUT", c("r"), A.uint4, 1, [], [], "Store the stack top into the memo."),
  op(
    "MEMOIZE",
    0x94,
    null,
    4,
    [ANY],
    [ANY],
    "Store the stack top into the memo at index len(memo).",
  ),
  // Extension registry
  op("EXT1", 0x82, A.uint1, 2, [], [ANY], "Extension code: push copyreg's registered object."),
  op("EXT2", 0x83, A.uint2, 2, [], [ANY], "Extension code: push copyreg's registered object."),
  op("EXT4", 0x84, A.int4, 2, [], [ANY], "Extension code: push copyreg's registered object."),
  // Globals and object building
  op(
    "GLOBAL",
    c("c"),
    A.stringnl_noescape_pair,
    0,
    [],
    [ANY],
    "Push a global object (module.attr) on the stack.",
  ),
  op(
    "STACK_GLOBAL",
    0x93,
    null,
    4,
    ["str", "str"],
    [ANY],
    "Push a global object; module and name are taken from the stack.",
  ),
  op(
    "REDUCE",
    c("R"),
    null,
    0,
    [ANY, ANY],
    [ANY],
    "Push an object built from a callable and an argument tuple.",
  ),
  op(
    "BUILD",
    c("b"),
    null,
    0,
    [ANY, ANY],
    [ANY],
    "Finish building an object, via __setstate__ or dict update.",
  ),
  op(
    "INST",
    c("i"),
    A.stringnl_noescape_pair,
    0,
    [MARK, SLICE],
    [ANY],
    "Build a class instance: call module.name with the stack slice.",
  ),
  op(
    "OBJ",
    c("o"),
    null,
    1,
    [MARK, ANY, SLICE],
    [ANY],
    "Build a class instance: call the first item after the mark with the rest.",
  ),
  op(
    "NEWOBJ",
    0x81,
    null,
    2,
    [ANY, ANY],
    [ANY],
    "Build an object instance: cls.__new__(cls, *args).",
  ),
  op(
    "NEWOBJ_EX",
    0x92,
    null,
    4,
    [ANY, ANY, ANY],
    [ANY],
    "Build an object instance: cls.__new__(cls, *args, **kwargs).",
  ),
  // Machine control
  op("PROTO", 0x80, A.uint1, 2, [], [], "Protocol version indicator."),
  op(
    "STOP",
    c("."),
    null,
    0,
    [ANY],
    [],
    "Stop the unpickling machine; the stack top is the result.",
  ),
  op("FRAME", 0x95, A.uint8, 4, [], [], "Indicate the beginning of a new frame."),
  // Persistent ids
  op(
    "PERSID",
    c("P"),
    A.stringnl_noescape,
    0,
    [],
    [ANY],
    "Push an object identified by a persistent ID (protocol-0 text).",
  ),
  op(
    "BINPERSID",
    c("Q"),
    null,
    1,
    [ANY],
    [ANY],
    "Push an object identified by the persistent ID on the stack.",
  ),
]);

/** Lookup by opcode byte: 256 entries, `undefined` for bytes that are not opcodes. */
export const OPCODE_BY_CODE: readonly (OpcodeInfo | undefined)[] = Object.freeze(
  (() => {
    const table = new Array<OpcodeInfo | undefined>(256).fill(undefined);
    for (const info of OPCODES) table[info.code] = info;
    return table;
  })(),
);

/** Lookup by name. */
export const OPCODE_BY_NAME: Readonly<Record<OpcodeName, OpcodeInfo>> = Object.freeze(
  Object.fromEntries(OPCODES.map((info) => [info.name, info])) as Record<OpcodeName, OpcodeInfo>,
);

/** Opcode bytes by name, for code that switches on the byte. */
export const OP: Readonly<Record<OpcodeName, number>> = Object.freeze(
  Object.fromEntries(OPCODES.map((info) => [info.name, info.code])) as Record<OpcodeName, number>,
);

/** The opcode's name, or `0xNN` for a byte that is not an opcode. */
export function opcodeName(code: number): string {
  return OPCODE_BY_CODE[code]?.name ?? `0x${code.toString(16).padStart(2, "0")}`;
}
