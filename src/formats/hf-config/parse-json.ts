import { err, ok, type Result } from "../../core/result.js";

/**
 * A JSON value as Python's `json.loads` returns it. Objects are `Map`s, so a key such as
 * `__proto__` or `constructor` is plain data and can never reach an object's prototype.
 */
export type JsonValue = null | boolean | number | string | JsonValue[] | JsonObject;
export type JsonObject = Map<string, JsonValue>;

export interface JsonParseError {
  message: string;
  /** Character index in the text. */
  index: number;
}

export interface JsonParseOptions {
  /** Deepest nesting of arrays and objects (Python's recursion limit is near 1000). @default 512 */
  maxDepth?: number;
}

export const MAX_JSON_DEPTH = 512;

export function isJsonObject(value: JsonValue | undefined): value is JsonObject {
  return value instanceof Map;
}

/**
 * Parses JSON the way Python's `json.loads` (the reader transformers, TorchServe and friends use)
 * does: `NaN`, `Infinity` and `-Infinity` are accepted, control characters inside strings are
 * not, a duplicate key keeps its last value, anything after the value is an error. Depth is
 * bounded, and nesting is tracked with an explicit stack, so hostile input cannot overflow ours.
 */
export function parseJson(
  text: string,
  options: JsonParseOptions = {},
): Result<JsonValue, JsonParseError> {
  const maxDepth = options.maxDepth ?? MAX_JSON_DEPTH;
  const parser = new Parser(text, maxDepth);
  try {
    return ok(parser.parseDocument());
  } catch (e) {
    if (e instanceof JsonSyntaxError) return err({ message: e.message, index: e.index });
    throw e;
  }
}

class JsonSyntaxError extends Error {
  constructor(
    message: string,
    readonly index: number,
  ) {
    super(message);
  }
}

type Frame =
  | { kind: "array"; value: JsonValue[] }
  | { kind: "object"; value: JsonObject; key: string | null };

const NUMBER = /-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][-+]?\d+)?/y;

class Parser {
  private i = 0;

  constructor(
    private readonly text: string,
    private readonly maxDepth: number,
  ) {}

  parseDocument(): JsonValue {
    const value = this.parseValue();
    this.skipSpace();
    if (this.i < this.text.length) this.fail("Extra data after the JSON value");
    return value;
  }

  private fail(message: string): never {
    throw new JsonSyntaxError(message, this.i);
  }

  private skipSpace(): void {
    const t = this.text;
    while (this.i < t.length) {
      const c = t.charCodeAt(this.i);
      if (c === 0x20 || c === 0x09 || c === 0x0a || c === 0x0d) this.i++;
      else break;
    }
  }

  /** Iterative: containers push a frame instead of recursing. */
  private parseValue(): JsonValue {
    const stack: Frame[] = [];
    let result: JsonValue | undefined;
    for (;;) {
      this.skipSpace();
      let value: JsonValue | undefined;
      const c = this.text[this.i];
      if (c === "{" || c === "[") {
        if (stack.length >= this.maxDepth) this.fail(`Nesting deeper than ${this.maxDepth}`);
        this.i++;
        this.skipSpace();
        if (c === "[") {
          const frame: Frame = { kind: "array", value: [] };
          if (this.text[this.i] === "]") {
            this.i++;
            value = frame.value;
          } else {
            stack.push(frame);
            continue;
          }
        } else {
          const frame: Frame = { kind: "object", value: new Map(), key: null };
          if (this.text[this.i] === "}") {
            this.i++;
            value = frame.value;
          } else {
            frame.key = this.parseKey();
            stack.push(frame);
            continue;
          }
        }
      } else {
        value = this.parseScalar();
      }
      // Attach the finished value to its container; close containers that end here.
      for (;;) {
        const top = stack.at(-1);
        if (!top) {
          result = value;
          break;
        }
        if (top.kind === "array") top.value.push(value);
        else top.value.set(top.key!, value);
        this.skipSpace();
        const next = this.text[this.i];
        if (next === ",") {
          this.i++;
          if (top.kind === "object") top.key = this.parseKey();
          break;
        }
        const close = top.kind === "array" ? "]" : "}";
        if (next !== close) this.fail(`Expected ',' or '${close}'`);
        this.i++;
        stack.pop();
        value = top.value;
      }
      if (result !== undefined) return result;
    }
  }

  private parseKey(): string {
    this.skipSpace();
    if (this.text[this.i] !== '"') this.fail("Expected a property name in double quotes");
    const key = this.parseString();
    this.skipSpace();
    if (this.text[this.i] !== ":") this.fail("Expected ':' delimiter");
    this.i++;
    return key;
  }

  private parseScalar(): JsonValue {
    const t = this.text;
    const c = t[this.i];
    if (c === '"') return this.parseString();
    for (const [word, value] of LITERALS) {
      if (t.startsWith(word, this.i)) {
        this.i += word.length;
        return value;
      }
    }
    NUMBER.lastIndex = this.i;
    const m = NUMBER.exec(t);
    if (m) {
      this.i += m[0].length;
      return Number(m[0]);
    }
    return this.fail("Expecting value");
  }

  private parseString(): string {
    const t = this.text;
    this.i++; // opening quote
    let out = "";
    let start = this.i;
    for (;;) {
      if (this.i >= t.length) this.fail("Unterminated string");
      const code = t.charCodeAt(this.i);
      if (code === 0x22) {
        out += t.slice(start, this.i);
        this.i++;
        return out;
      }
      if (code < 0x20) this.fail("Invalid control character in string");
      if (code !== 0x5c) {
        this.i++;
        continue;
      }
      out += t.slice(start, this.i);
      const esc = t[this.i + 1];
      this.i += 2;
      switch (esc) {
        case '"':
        case "\\":
        case "/":
          out += esc;
          break;
        case "b":
          out += "\b";
          break;
        case "f":
          out += "\f";
          break;
        case "n":
          out += "\n";
          break;
        case "r":
          out += "\r";
          break;
        case "t":
          out += "\t";
          break;
        case "u": {
          const hex = t.slice(this.i, this.i + 4);
          if (!/^[0-9a-fA-F]{4}$/.test(hex)) this.fail("Invalid \\uXXXX escape");
          out += String.fromCharCode(Number.parseInt(hex, 16));
          this.i += 4;
          break;
        }
        default:
          this.i -= 2;
          this.fail("Invalid \\escape");
      }
      start = this.i;
    }
  }
}

const LITERALS: readonly (readonly [string, JsonValue])[] = [
  ["true", true],
  ["false", false],
  ["null", null],
  ["NaN", Number.NaN],
  ["Infinity", Number.POSITIVE_INFINITY],
  ["-Infinity", Number.NEGATIVE_INFINITY],
];
