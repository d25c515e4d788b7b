/** A Python string or bytes literal's value; bytes hold one character per byte (U+0000–U+00FF). */
export interface PythonLiteral {
  value: string;
  bytes: boolean;
}

/** Python's one-character escapes (`\\n`, `\\t`, …), shared by every reader of Python literals. */
export const SIMPLE_ESCAPES: Readonly<Record<string, string>> = {
  "\\": "\\",
  "'": "'",
  '"': '"',
  a: "\x07",
  b: "\b",
  f: "\f",
  n: "\n",
  r: "\r",
  t: "\t",
  v: "\v",
};

const HEX = /^[0-9a-fA-F]+$/;

/**
 * Decodes the source text of one Python string literal (`'…'`, `"""…"""`, with `r`/`b`/`u`
 * prefixes) the way Python's tokenizer does. Returns `null` for f-strings (their value is computed
 * at run time), `\N{…}` names (the Unicode name table is not carried here) and text that is not a
 * complete literal.
 */
export function decodePythonLiteral(text: string): PythonLiteral | null {
  const prefix = /^[A-Za-z]*/.exec(text)?.[0] ?? "";
  const flags = prefix.toLowerCase();
  if (flags.includes("f") || /[^rbu]/.test(flags)) return null;
  const raw = flags.includes("r");
  const bytes = flags.includes("b");
  let rest = text.slice(prefix.length);
  const quote =
    rest.startsWith('"""') || rest.startsWith("'''") ? rest.slice(0, 3) : rest.slice(0, 1);
  if ((quote !== '"' && quote !== "'" && quote.length !== 3) || rest.length < quote.length * 2) {
    return null;
  }
  if (!rest.endsWith(quote)) return null;
  rest = rest.slice(quote.length, rest.length - quote.length);
  if (raw) return { value: rest, bytes };
  let out = "";
  for (let i = 0; i < rest.length; i++) {
    const ch = rest[i]!;
    if (ch !== "\\") {
      out += ch;
      continue;
    }
    const next = rest[i + 1];
    if (next === undefined) return null;
    i++;
    if (next === "\n") continue;
    if (next === "\r") {
      if (rest[i + 1] === "\n") i++;
      continue;
    }
    const simple = SIMPLE_ESCAPES[next];
    if (simple !== undefined) {
      out += simple;
      continue;
    }
    if (next >= "0" && next <= "7") {
      let digits = next;
      while (digits.length < 3 && /[0-7]/.test(rest[i + 1] ?? "")) digits += rest[++i];
      out += String.fromCharCode(Number.parseInt(digits, 8) & (bytes ? 0xff : 0x1ff));
      continue;
    }
    const width = next === "x" ? 2 : !bytes && next === "u" ? 4 : !bytes && next === "U" ? 8 : 0;
    if (width > 0) {
      const hex = rest.slice(i + 1, i + 1 + width);
      if (hex.length !== width || !HEX.test(hex)) return null;
      const code = Number.parseInt(hex, 16);
      if (code > 0x10ffff) return null;
      out += String.fromCodePoint(code);
      i += width;
      continue;
    }
    if (!bytes && next === "N") return null;
    out += `\\${next}`;
  }
  return { value: out, bytes };
}
