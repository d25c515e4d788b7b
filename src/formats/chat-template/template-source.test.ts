import { tokenize as untypedTokenize } from "@huggingface/jinja";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  decodePythonEscapes,
  prepareForParser,
  type StringLiteral,
  scanTemplateSource,
} from "./template-source.js";

const tokenize: (source: string) => { value: string; type: string }[] = untypedTokenize;

describe("decodePythonEscapes", () => {
  it("decodes what Python's unicode-escape codec decodes", () => {
    const cases: [string, string][] = [
      ["\\x5f\\x5f", "__"],
      ["\\137\\1377", "__7"],
      ["\\u005f\\U0000005f", "__"],
      ["\\N{LOW LINE}\\N{latin small letter a}", "_a"],
      ["a\\\nb", "ab"],
      ["\\a\\b\\f\\n\\r\\t\\v\\\\\\'\\\"", "\x07\b\f\n\r\t\v\\'\""],
      ["\\q\\8", "\\q\\8"],
      ["\\U0001F600", "😀"],
    ];
    for (const [body, value] of cases) expect(decodePythonEscapes(body).value, body).toBe(value);
  });

  it("marks escapes Jinja2 would refuse, and names it cannot resolve", () => {
    expect(decodePythonEscapes("\\x5").invalidEscape).toBe(true);
    expect(decodePythonEscapes("\\U00110000").invalidEscape).toBe(true);
    expect(decodePythonEscapes("\\N{SNOWMAN}").unresolvedName).toBe(true);
  });
});

describe("scanTemplateSource", () => {
  it("splits text, comments, code and string literals as Jinja2 does", () => {
    const t = "a{# {{ x }} #}b{{ 'q}}' ~ {'k': 1} }}c{% if x %}d";
    const kinds = scanTemplateSource(t).regions.map((r) => [r.kind, t.slice(r.start, r.end)]);
    expect(kinds).toEqual([
      ["text", "a"],
      ["comment", "{# {{ x }} #}"],
      ["text", "b"],
      ["code", "{{ "],
      ["string", "'q}}'"],
      ["code", " ~ {"],
      ["string", "'k'"],
      ["code", ": 1} }}"],
      ["text", "c"],
      ["code", "{% if x %}"],
      ["text", "d"],
    ]);
  });

  it("never throws and covers the whole text", () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 200 }), (t) => {
        const { regions } = scanTemplateSource(t);
        let at = 0;
        for (const r of regions) {
          expect(r.start).toBe(at);
          at = r.end;
        }
        expect(at).toBe(t.length);
      }),
      { numRuns: 1000 },
    );
  });
});

describe("prepareForParser", () => {
  it("re-spells literals so the Hugging Face lexer reads Jinja2's values", () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 40 }), (value) => {
        const body = [...value]
          .map((c) => `\\U${c.codePointAt(0)!.toString(16).padStart(8, "0")}`)
          .join("");
        const source = scanTemplateSource(`{{ x['${body}'] }}`);
        const literal = source.regions.find((r) => r.kind === "string") as StringLiteral;
        expect(literal.value).toBe(value);
        const tokens = tokenize(prepareForParser(source));
        expect(tokens.find((t) => t.type === "StringLiteral")?.value ?? "").toBe(value);
      }),
      { numRuns: 300 },
    );
  });

  it("shortens whitespace runs outside literals only", () => {
    const prepared = prepareForParser(
      scanTemplateSource(`${" ".repeat(1000)}{{ '${" ".repeat(100)}' }}`),
    );
    expect(prepared.length).toBeLessThan(1000);
    expect(tokenize(prepared).find((t) => t.type === "StringLiteral")?.value).toBe(" ".repeat(100));
  });
});
