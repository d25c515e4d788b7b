import { SIMPLE_ESCAPES } from "../python-source/python-literal.js";
/**
 * A small, bounded parser for Python literals — what `ast.literal_eval` accepts and NumPy uses to
 * read a `.npy` header. It reads the text as DATA: nothing is evaluated, no name is looked up.
 *
 * Supported: dicts, lists, tuples (with grouping parentheses and trailing commas), sets, str and
 * bytes literals (prefixes r/u/b, single/double/triple quotes, escapes, implicit concatenation),
 * ints (decimal, 0x/0o/0b, underscores; a Python 2 `L` suffix when asked), floats, imaginary
 * numbers, unary +/- on numbers, True/False/None/`...`, comments and white space.
 */

import { err, ok, type Result } from "../../core/result.js";

export type PyValue =
  | { kind: "str"; value: string }
  | { kind: "bytes"; value: Uint8Array }
  | { kind: "int"; value: bigint }
  | { kind: "float"; value: number }
  | { kind: "complex" }
  | { kind: "bool"; value: boolean }
  | { kind: "none" }
  | { kind: "ellipsis" }
  | { kind: "tuple" | "list" | "set"; items: PyValue[] }
  | { kind: "dict"; entries: [PyValue, PyValue][] };

export interface PyLiteralOptions {
  /** Deepest nesting of containers accepted. @default 64 */
  maxDepth?: number;
  /** Accept `10L` (NumPy strips the Python 2 long suffix from version 1.0/2.0 headers). */
  allowLongSuffix?: boolean;
}

class LiteralError extends Error {}

class Parser {
  pos = 0;
  constructor(
    private readonly text: string,
    private readonly maxDepth: number,
    private readonly allowLong: boolean,
  ) {}

  fail(message: string): never {
    throw new LiteralError(`${message} at character ${this.pos}`);
  }

  /** Skips white space, line continuations and comments. */
  skip(): void {
    const t = this.text;
    while (this.pos < t.length) {
      const c = t[this.pos]!;
      if (c === " " || c === "\t" || c === "\n" || c === "\r" || c === "\f" || c === "\v") {
        this.pos++;
      } else if (c === "\\" && (t[this.pos + 1] === "\n" || t[this.pos + 1] === "\r")) {
        this.pos += 2;
      } else if (c === "#") {
        while (this.pos < t.length && t[this.pos] !== "\n" && t[this.pos] !== "\r") this.pos++;
      } else {
        break;
      }
    }
  }

  peek(): string | undefined {
    this.skip();
    return this.text[this.pos];
  }

  expect(c: string): void {
    if (this.peek() !== c) this.fail(`expected "${c}"`);
    this.pos++;
  }

  parseTop(): PyValue {
    const value = this.value(0);
    if (this.peek() === ",") {
      // A bare tuple: `1, 2`.
      const items = [value];
      while (this.peek() === ",") {
        this.pos++;
        if (this.peek() === undefined) break;
        items.push(this.value(0));
      }
      this.skip();
      if (this.pos < this.text.length) this.fail("unexpected text");
      return { kind: "tuple", items };
    }
    this.skip();
    if (this.pos < this.text.length) this.fail("unexpected text after the value");
    return value;
  }

  value(depth: number): PyValue {
    if (depth > this.maxDepth) this.fail(`nesting deeper than ${this.maxDepth}`);
    const c = this.peek();
    if (c === undefined) this.fail("unexpected end");
    if (c === "{") return this.braces(depth);
    if (c === "[") return this.sequence(depth, "[", "]", "list");
    if (c === "(") return this.parens(depth);
    if (c === "+" || c === "-") return this.signed(depth);
    if (c === "." && this.text.startsWith("...", this.pos)) {
      this.pos += 3;
      return { kind: "ellipsis" };
    }
    if (/[0-9.]/.test(c)) return this.number();
    if (/[A-Za-z_]/.test(c)) return this.word();
    if (c === "'" || c === '"') return this.strings();
    return this.fail(`unexpected "${c}"`);
  }

  signed(depth: number): PyValue {
    const negative = this.text[this.pos] === "-";
    this.pos++;
    const next = this.peek();
    if (next === "+" || next === "-") this.fail("a sign applies to a number, not to another sign");
    const operand = this.value(depth + 1);
    if (operand.kind === "int")
      return { kind: "int", value: negative ? -operand.value : operand.value };
    if (operand.kind === "float")
      return { kind: "float", value: negative ? -operand.value : operand.value };
    if (operand.kind === "complex") return operand;
    return this.fail("a sign applies to numbers only");
  }

  braces(depth: number): PyValue {
    this.pos++;
    if (this.peek() === "}") {
      this.pos++;
      return { kind: "dict", entries: [] };
    }
    const first = this.value(depth + 1);
    if (this.peek() === ":") {
      const entries: [PyValue, PyValue][] = [];
      let key = first;
      for (;;) {
        this.expect(":");
        entries.push([key, this.value(depth + 1)]);
        if (this.peek() === ",") {
          this.pos++;
          if (this.peek() === "}") break;
          key = this.value(depth + 1);
          continue;
        }
        break;
      }
      this.expect("}");
      return { kind: "dict", entries };
    }
    const items = [first];
    while (this.peek() === ",") {
      this.pos++;
      if (this.peek() === "}") break;
      items.push(this.value(depth + 1));
    }
    this.expect("}");
    return { kind: "set", items };
  }

  sequence(depth: number, open: string, close: string, kind: "list"): PyValue {
    this.expect(open);
    const items: PyValue[] = [];
    while (this.peek() !== close) {
      items.push(this.value(depth + 1));
      if (this.peek() !== ",") break;
      this.pos++;
    }
    this.expect(close);
    return { kind, items };
  }

  parens(depth: number): PyValue {
    this.pos++;
    if (this.peek() === ")") {
      this.pos++;
      return { kind: "tuple", items: [] };
    }
    const first = this.value(depth + 1);
    if (this.peek() === ")") {
      this.pos++;
      return first; // grouping, not a tuple
    }
    const items = [first];
    while (this.peek() === ",") {
      this.pos++;
      if (this.peek() === ")") break;
      items.push(this.value(depth + 1));
    }
    this.expect(")");
    return { kind: "tuple", items };
  }

  word(): PyValue {
    const m = /^[A-Za-z_][A-Za-z0-9_]*/.exec(this.text.slice(this.pos, this.pos + 64))!;
    const word = m[0];
    const next = this.text[this.pos + word.length];
    if ((next === "'" || next === '"') && /^(r|u|b|br|rb)$/i.test(word)) return this.strings();
    this.pos += word.length;
    if (word === "True") return { kind: "bool", value: true };
    if (word === "False") return { kind: "bool", value: false };
    if (word === "None") return { kind: "none" };
    this.pos -= word.length;
    return this.fail(`the name "${word}" is not a literal`);
  }

  number(): PyValue {
    const rest = this.text.slice(this.pos, this.pos + 4096);
    const radix = /^0([xX](?:_?[0-9a-fA-F])+|[oO](?:_?[0-7])+|[bB](?:_?[01])+)/.exec(rest);
    let token: string;
    let value: PyValue;
    if (radix) {
      token = radix[0];
      const digits = token.slice(2).replaceAll("_", "");
      const prefix =
        token[1]!.toLowerCase() === "x" ? "0x" : token[1]!.toLowerCase() === "o" ? "0o" : "0b";
      value = { kind: "int", value: BigInt(prefix + digits) };
    } else {
      const m =
        /^(?:(?:\d(?:_?\d)*)?\.\d(?:_?\d)*|\d(?:_?\d)*\.?)(?:[eE][+-]?\d(?:_?\d)*)?[jJ]?/.exec(
          rest,
        );
      if (!m || m[0] === "" || m[0] === ".") this.fail("bad number");
      token = m[0];
      const clean = token.replaceAll("_", "");
      if (/[jJ]$/.test(clean)) value = { kind: "complex" };
      else if (/[.eE]/.test(clean)) value = { kind: "float", value: Number(clean) };
      else {
        if (/^0\d/.test(clean) && /[1-9]/.test(clean))
          this.fail("leading zeros in a decimal integer");
        value = { kind: "int", value: BigInt(clean) };
      }
    }
    this.pos += token.length;
    if (value.kind === "int" && this.allowLong && this.text[this.pos] === "L") this.pos++;
    if (/[A-Za-z0-9_]/.test(this.text[this.pos] ?? "")) this.fail("bad number");
    return value;
  }

  /** One or more adjacent string literals (implicit concatenation); str and bytes do not mix. */
  strings(): PyValue {
    let text = "";
    let bytes: number[] | undefined;
    let first = true;
    for (;;) {
      const c = this.peek();
      const prefix =
        c === undefined
          ? undefined
          : /^(?:[rRuUbB]|[bB][rR]|[rR][bB])?(?=['"])/.exec(
              this.text.slice(this.pos, this.pos + 3),
            );
      if (prefix === undefined || prefix === null) break;
      const p = prefix[0].toLowerCase();
      const isBytes = p.includes("b");
      if (!first && isBytes !== (bytes !== undefined))
        this.fail("cannot mix bytes and str literals");
      this.pos += prefix[0].length;
      const body = this.stringBody(p.includes("r"), isBytes);
      if (isBytes) {
        bytes ??= [];
        for (const ch of body) bytes.push(ch.charCodeAt(0));
      } else {
        text += body;
      }
      first = false;
    }
    return bytes !== undefined
      ? { kind: "bytes", value: Uint8Array.from(bytes) }
      : { kind: "str", value: text };
  }

  stringBody(raw: boolean, isBytes: boolean): string {
    const t = this.text;
    const quote = t[this.pos]!;
    const triple = t.startsWith(quote.repeat(3), this.pos);
    const close = triple ? quote.repeat(3) : quote;
    this.pos += close.length;
    let out = "";
    for (;;) {
      if (this.pos >= t.length) this.fail("unterminated string");
      if (t.startsWith(close, this.pos)) {
        this.pos += close.length;
        return out;
      }
      const c = t[this.pos]!;
      if (!triple && (c === "\n" || c === "\r")) this.fail("line break in a string");
      if (isBytes && c.charCodeAt(0) > 0x7f) this.fail("non-ASCII character in a bytes literal");
      if (c !== "\\") {
        out += c;
        this.pos++;
        continue;
      }
      const e = t[this.pos + 1];
      if (e === undefined) this.fail("unterminated string");
      if (raw) {
        out += c + e;
        this.pos += 2;
        continue;
      }
      this.pos += 2;
      if (e === "\n") continue;
      if (e === "\r") {
        if (t[this.pos] === "\n") this.pos++;
        continue;
      }
      const simple = SIMPLE_ESCAPES[e];
      if (simple !== undefined) {
        out += simple;
      } else if (/[0-7]/.test(e)) {
        // Up to three octal digits, the first being `e`.
        const digits = /^[0-7]{1,3}/.exec(t.slice(this.pos - 1, this.pos + 2))![0];
        this.pos += digits.length - 1;
        const code = Number.parseInt(digits, 8);
        if (isBytes && code > 0xff) this.fail("octal escape above \\377 in a bytes literal");
        out += String.fromCharCode(code);
      } else if (e === "x") {
        out += this.hexEscape(2);
      } else if (!isBytes && e === "u") {
        out += this.hexEscape(4);
      } else if (!isBytes && e === "U") {
        out += this.hexEscape(8);
      } else if (!isBytes && e === "N") {
        this.fail("\\N{...} escapes are not supported");
      } else {
        out += `\\${e}`;
      }
    }
  }

  hexEscape(n: number): string {
    const digits = this.text.slice(this.pos, this.pos + n);
    if (!new RegExp(`^[0-9a-fA-F]{${n}}$`).test(digits)) this.fail("bad \\x, \\u or \\U escape");
    this.pos += n;
    const code = Number.parseInt(digits, 16);
    if (code > 0x10ffff) this.fail("escape beyond U+10FFFF");
    return String.fromCodePoint(code);
  }
}

/** Parses `text` as one Python literal (leading spaces and tabs ignored, like `literal_eval`). */
export function parsePyLiteral(
  text: string,
  options: PyLiteralOptions = {},
): Result<PyValue, string> {
  const stripped = text.replace(/^[ \t]+/, "");
  const parser = new Parser(stripped, options.maxDepth ?? 64, options.allowLongSuffix ?? false);
  try {
    return ok(parser.parseTop());
  } catch (e) {
    if (e instanceof LiteralError) return err(e.message);
    if (e instanceof RangeError) return err("the literal is too deeply nested");
    throw e;
  }
}
