import { SIMPLE_ESCAPES } from "../python-source/python-literal.js";

/**
 * A first, linear pass over a template's source that finds what Jinja2's own lexer finds: text,
 * comments, code (`{{ … }}`, `{% … %}`) and the string literals inside code, decoded the way
 * Jinja2 decodes them (Python's `unicode-escape`: `\x5f`, `\137`, `\u005f`, `\U0000005f`,
 * `\N{LOW LINE}` all spell `_`). It serves two purposes:
 * - `prepareForParser` rewrites each literal with only the escapes the Hugging Face Jinja lexer
 *   understands, so a payload spelled with octal or named escapes is parsed, not rejected;
 * - when the template cannot be parsed at all, the names in its code and the decoded literals are
 *   still there to be scanned (`lexical-scan.ts`).
 */

/** Whitespace runs kept in text and code (longer runs are shortened; see `prepareForParser`). */
const MAX_WHITESPACE_RUN = 64;

export interface SourceRegion {
  kind: "text" | "comment" | "code" | "string";
  start: number;
  end: number;
}

export interface StringLiteral extends SourceRegion {
  kind: "string";
  quote: string;
  /** The literal's value as Jinja2 decodes it. */
  value: string;
  /** Jinja2 would refuse the template here (a malformed `\x`/`\u`/`\U` escape). */
  invalidEscape: boolean;
  /** A `\N{…}` escape whose character name is not in our small table (value holds U+FFFD). */
  unresolvedName: boolean;
}

export interface TemplateSource {
  text: string;
  regions: (SourceRegion | StringLiteral)[];
}

/** `\N{…}` names an attacker needs to spell identifiers; others decode to U+FFFD. */
function namedCharacter(name: string): string | undefined {
  const n = name.trim().toUpperCase();
  if (n === "LOW LINE" || n === "SPACING UNDERSCORE") return "_";
  if (n === "FULL STOP" || n === "PERIOD") return ".";
  if (n === "SPACE") return " ";
  if (n === "SOLIDUS") return "/";
  if (n === "HYPHEN-MINUS") return "-";
  if (n === "APOSTROPHE") return "'";
  if (n === "QUOTATION MARK") return '"';
  let m = /^LATIN (SMALL|CAPITAL) LETTER ([A-Z])$/.exec(n);
  if (m) return m[1] === "SMALL" ? m[2]!.toLowerCase() : m[2]!;
  m = /^DIGIT (ZERO|ONE|TWO|THREE|FOUR|FIVE|SIX|SEVEN|EIGHT|NINE)$/.exec(n);
  if (m) {
    return String(
      ["ZERO", "ONE", "TWO", "THREE", "FOUR", "FIVE", "SIX", "SEVEN", "EIGHT", "NINE"].indexOf(
        m[1]!,
      ),
    );
  }
  return undefined;
}

const isHex = (s: string) => /^[0-9a-fA-F]+$/.test(s);

/** Decodes a literal's body as Python's `unicode-escape` codec does. */
export function decodePythonEscapes(body: string): {
  value: string;
  invalidEscape: boolean;
  unresolvedName: boolean;
} {
  let value = "";
  let invalidEscape = false;
  let unresolvedName = false;
  let i = 0;
  while (i < body.length) {
    const ch = body[i]!;
    if (ch !== "\\" || i + 1 >= body.length) {
      value += ch;
      i++;
      continue;
    }
    const e = body[i + 1]!;
    const simple = SIMPLE_ESCAPES[e];
    if (simple !== undefined) {
      value += simple;
      i += 2;
    } else if (e === "\n") {
      i += 2;
    } else if (e >= "0" && e <= "7") {
      let j = i + 1;
      while (j < body.length && j < i + 4 && body[j]! >= "0" && body[j]! <= "7") j++;
      value += String.fromCharCode(Number.parseInt(body.slice(i + 1, j), 8));
      i = j;
    } else if (e === "x" || e === "u" || e === "U") {
      const n = e === "x" ? 2 : e === "u" ? 4 : 8;
      const digits = body.slice(i + 2, i + 2 + n);
      const code = digits.length === n && isHex(digits) ? Number.parseInt(digits, 16) : -1;
      if (code < 0 || code > 0x10ffff) {
        invalidEscape = true;
        value += `\\${e}`;
        i += 2;
      } else {
        value += String.fromCodePoint(code);
        i += 2 + n;
      }
    } else if (e === "N" && body[i + 2] === "{") {
      const close = body.indexOf("}", i + 3);
      const name = close < 0 ? undefined : body.slice(i + 3, close);
      if (name === undefined || !/^[A-Za-z0-9 -]{1,100}$/.test(name)) {
        invalidEscape = true;
        value += "\\N";
        i += 2;
      } else {
        const decoded = namedCharacter(name);
        if (decoded === undefined) unresolvedName = true;
        value += decoded ?? "\ufffd";
        i = close + 1;
      }
    } else {
      value += `\\${e}`;
      i += 2;
    }
  }
  return { value, invalidEscape, unresolvedName };
}

/**
 * Splits a template into regions as Jinja2's lexer does: text up to `{{`, `{%` or `{#`; a
 * comment up to `#}`; code up to `}}` (outside braces and strings) or `%}`, with the string
 * literals in it. Linear in the template's length; never throws.
 */
export function scanTemplateSource(text: string): TemplateSource {
  const regions: (SourceRegion | StringLiteral)[] = [];
  const n = text.length;
  let i = 0;
  while (i < n) {
    let open = text.indexOf("{", i);
    while (open >= 0 && open + 1 < n && !"{%#".includes(text[open + 1]!)) {
      open = text.indexOf("{", open + 1);
    }
    if (open < 0 || open + 1 >= n) {
      regions.push({ kind: "text", start: i, end: n });
      break;
    }
    if (open > i) regions.push({ kind: "text", start: i, end: open });
    if (text[open + 1] === "#") {
      const close = text.indexOf("#}", open + 2);
      const end = close < 0 ? n : close + 2;
      regions.push({ kind: "comment", start: open, end });
      i = end;
      continue;
    }
    const statement = text[open + 1] === "%";
    let j = open + 2;
    let depth = 0;
    let codeStart = open;
    for (;;) {
      if (j >= n) {
        regions.push({ kind: "code", start: codeStart, end: n });
        i = n;
        break;
      }
      const c = text[j]!;
      if (c === "'" || c === '"') {
        if (j > codeStart) regions.push({ kind: "code", start: codeStart, end: j });
        let k = j + 1;
        while (k < n && text[k] !== c) k += text[k] === "\\" ? 2 : 1;
        const end = Math.min(k, n);
        const decoded = decodePythonEscapes(text.slice(j + 1, end));
        regions.push({ kind: "string", start: j, end: Math.min(end + 1, n), quote: c, ...decoded });
        j = end + 1;
        codeStart = Math.min(j, n);
        continue;
      }
      if (c === "%" && text[j + 1] === "}") {
        regions.push({ kind: "code", start: codeStart, end: j + 2 });
        i = j + 2;
        break;
      }
      if (c === "}" && text[j + 1] === "}" && depth <= 0 && !statement) {
        regions.push({ kind: "code", start: codeStart, end: j + 2 });
        i = j + 2;
        break;
      }
      if (c === "{") depth++;
      else if (c === "}") depth--;
      j++;
    }
  }
  return { text, regions };
}

/** Re-spells a decoded value as a literal the Hugging Face lexer reads back to the same value. */
function respell(value: string, quote: string): string {
  let out = quote;
  for (const ch of value) {
    if (ch === "\\") out += "\\\\";
    else if (ch === quote) out += `\\${quote}`;
    else if (/\s/.test(ch)) out += `\\u${ch.charCodeAt(0).toString(16).padStart(4, "0")}`;
    else out += ch;
  }
  return `${out}${quote}`;
}

/**
 * The template as the Hugging Face parser should see it: string literals re-spelled with escapes
 * it understands (same values), and whitespace runs outside literals shortened to
 * `MAX_WHITESPACE_RUN` (its preprocessing regex is quadratic in the length of a whitespace run;
 * whitespace outside literals means nothing to the analysis). Literals Jinja2 itself would refuse
 * are left as written, so the parser refuses them too.
 */
export function prepareForParser(source: TemplateSource): string {
  const parts: string[] = [];
  for (const region of source.regions) {
    const raw = source.text.slice(region.start, region.end);
    if (region.kind === "string") {
      const literal = region as StringLiteral;
      const closed = raw.length >= 2 && raw.endsWith(literal.quote);
      parts.push(closed && !literal.invalidEscape ? respell(literal.value, literal.quote) : raw);
    } else {
      parts.push(raw.replace(/\s{65,}/g, (run) => run.slice(0, MAX_WHITESPACE_RUN)));
    }
  }
  return parts.join("");
}
