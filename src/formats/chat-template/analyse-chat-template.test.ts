import { readFileSync } from "node:fs";
import { join } from "node:path";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { analyseChatTemplate } from "./analyse-chat-template.js";

const FIXTURES = join(import.meta.dirname, "../../../test/fixtures/chat-template");
interface Entry {
  file: string;
  expect: "safe" | "malicious";
  technique: string;
  proof?: string;
}
const manifest: { fixtures: Entry[] } = JSON.parse(
  readFileSync(join(FIXTURES, "manifest.json"), "utf8"),
);
const templates = manifest.fixtures.filter(
  (e) => e.file.endsWith(".jinja") && !e.file.startsWith("files/"),
);
const read = (file: string) => readFileSync(join(FIXTURES, file), "utf8");

/** `[rule, severity]` of each finding, most severe first. */
const judge = (t: string) => analyseChatTemplate(t).map((f) => [f.rule, f.severity]);
const worst = (t: string) => analyseChatTemplate(t)[0]?.severity ?? "none";

describe("real chat templates (test/fixtures/chat-template/benign)", () => {
  const benign = templates.filter((e) => e.expect === "safe");
  it("covers the families the issue names", () => {
    const names = benign.map((e) => e.file).join(" ");
    for (const family of [
      "Llama-3-",
      "Llama-3.1",
      "Mistral-7B-Instruct-v0.1",
      "v0.3-tools",
      "Qwen2-",
      "Qwen2.5",
      "gemma",
      "Phi-3",
      "chatml",
      "deepseek",
      "DeepSeek-R1",
    ]) {
      expect(names).toContain(family);
    }
  });
  it.each(benign.map((e) => [e.file] as const))("%s has no findings", (file) => {
    expect(analyseChatTemplate(read(file))).toEqual([]);
  });
});

describe("proven malicious templates (test/fixtures/chat-template/malicious)", () => {
  const malicious = templates.filter((e) => e.expect === "malicious");
  it.each(malicious.map((e) => [e.file, e] as const))("%s is a sandbox escape", (file, entry) => {
    const findings = analyseChatTemplate(read(file));
    expect(findings[0]?.rule, entry.technique).toBe("chat-template.sandbox-escape");
    expect(findings[0]?.severity).toBe("critical");
    expect(findings[0]?.references).toContain("CVE-2024-34359");
    expect(findings[0]?.evidence?.pseudocode).toBeTruthy();
  });
});

describe("analyseChatTemplate", () => {
  it("leaves ordinary constructs alone", () => {
    for (const t of [
      "{{ '{}: {}'.format(message.role, message.content) }}",
      "{{ messages|map(attribute='content')|join('\\n') }}",
      "{{ messages|selectattr('role', 'equalto', 'user')|list|length }}",
      "{% set ns = namespace(n=0, found=false) %}{% for m in messages %}{% set ns.n = ns.n + 1 %}{% endfor %}{{ ns.n }}",
      "{% for i in range(3) %}{{ loop.index }}{{ loop.last }}{% endfor %}",
      "{% if messages[0]['role'] == 'system' %}{{ '<|system|>' ~ messages[0]['content'] }}{% endif %}",
      "{% set c = message['content'].split('</think>')[-1].strip() %}{{ c[::-1] }}",
      "{{ tools|tojson(indent=2) }}{{ raise_exception('no') }}{{ strftime_now('%d %b %Y') }}",
      "{% macro render(m) %}{{ m.role|upper }}{% endmacro %}{% for m in messages %}{{ render(m) }}{% endfor %}",
      "{{ x is divisibleby(3) }}{{ (1,) }}{% for a, b in d.items() %}{{ a }}{% endfor %}",
      "{{ '%s: %s'|format(a, b) }}{{ 'sys' }}{{ message.content|default('') }}",
      "",
      "plain text, no code at all",
    ]) {
      expect(analyseChatTemplate(t), t).toEqual([]);
    }
  });

  it("calls gateway chains critical and lone dunders high", () => {
    expect(worst("{{ ''.__class__.__mro__[1].__subclasses__() }}")).toBe("critical");
    expect(worst("{{ x.__init__.__globals__ }}")).toBe("critical");
    expect(worst("{{ __import__('os').popen('id') }}")).toBe("critical");
    expect(worst("{{ x.__class__ }}")).toBe("high");
    expect(worst("{{ x['__doc__'] }}")).toBe("high");
    expect(worst("{{ x._private }}")).toBe("high");
    expect(worst("{{ x.__class__.system }}")).toBe("critical");
  });

  it("flags globals and attributes that run commands", () => {
    expect(judge("{{ os.popen('id').read() }}")).toEqual([["chat-template.suspicious", "high"]]);
    expect(judge("{{ getattr(x, 'y') }}")).toEqual([["chat-template.suspicious", "high"]]);
    expect(judge("{{ lipsum.os }}")).toEqual([["chat-template.suspicious", "high"]]);
    expect(judge("{{ message.popen }}")).toEqual([["chat-template.suspicious", "medium"]]);
    expect(judge("{% set os = messages %}{{ os.count }}")).toEqual([]);
  });

  it("sees names through escapes, building, variables, loops and macros", () => {
    for (const t of [
      "{{ lipsum['\\x5f\\x5fglobals\\x5f\\x5f'] }}",
      "{{ lipsum['\\137\\137globals\\137\\137'] }}",
      "{{ lipsum['\\N{LOW LINE}\\N{LOW LINE}globals\\N{LOW LINE}\\N{LOW LINE}'] }}",
      "{{ lipsum['\\u005f\\U0000005fglobals__'] }}",
      "{{ lipsum|attr('__glo' ~ 'bals__') }}",
      "{{ lipsum|attr('__glo' + 'bals__') }}",
      "{{ lipsum|attr('%s%s'|format('__glo', 'bals__')) }}",
      "{{ lipsum|attr('%c%cglobals%c%c' % (95, 95, 95, 95)) }}",
      "{{ lipsum|attr('{}{}'.format('__glo', 'bals__')) }}",
      "{{ lipsum|attr(''.join(['__glo', 'bals__'])) }}",
      "{{ lipsum|attr('__GLOBALS__'|lower) }}",
      "{{ lipsum|attr('__slabolg__'|reverse) }}",
      "{{ lipsum|attr('__slabolg__'|list|reverse|join) }}",
      "{{ lipsum|attr('x__globals__x'[1:-1]) }}",
      "{{ lipsum|attr('__glob-als__'|replace('-', '')) }}",
      "{{ lipsum|attr({'k': '__globals__'}['k']) }}",
      "{% set a = '__glo' %}{% set b = a ~ 'bals__' %}{{ lipsum|attr(b) }}",
      "{% set parts %}__glo{{ 'bals__' }}{% endset %}{{ lipsum|attr(parts) }}",
      "{% for n in ['__globals__'] %}{{ lipsum|attr(n) }}{% endfor %}",
      "{% set ns = namespace(s='') %}{% for c in '__globals__' %}{% set ns.s = ns.s ~ c %}{% endfor %}{{ lipsum|attr(ns.s) }}",
      "{% macro get(o, n) %}{{ o|attr(n) }}{% endmacro %}{{ get(lipsum, '__globals__') }}",
      "{{ [lipsum]|map('attr', '__globals__')|list }}",
      "{{ '{0.__globals__}'.format(lipsum) }}",
      "{% set g = lipsum.__globals__ %}{{ g.os }}",
      "{% if x %}{% set n = '__globals__' %}{% else %}{% set n = 'safe' %}{% endif %}{{ lipsum|attr(n) }}",
      "{% filter attr('__glo' ~ 'bals__') %}x{% endfilter %}",
      "{{ x|map(attribute='__init__.__globals__')|list }}",
      "{{ x|selectattr('__class__.__subclasses__')|list }}",
    ]) {
      expect(worst(t), t).toBe("critical");
    }
  });

  it("calls computed attribute names suspicious", () => {
    expect(judge("{{ request|attr(request.args.name) }}")).toEqual([
      ["chat-template.suspicious", "high"],
    ]);
    expect(judge("{{ x[y ~ z] }}")).toEqual([["chat-template.suspicious", "medium"]]);
    expect(judge("{{ x|map(attribute=y) }}")).toEqual([["chat-template.suspicious", "medium"]]);
    expect(judge("{{ x[y] }}")).toEqual([]);
  });

  it("calls building a dangerous name suspicious even unused", () => {
    expect(judge("{% set n = '__cla' ~ 'ss__' %}")).toEqual([["chat-template.suspicious", "high"]]);
    expect(judge("{% set n = 'po' ~ 'pen' %}")).toEqual([["chat-template.suspicious", "medium"]]);
    expect(judge("{% set n = '__class__' %}")).toEqual([["chat-template.suspicious", "medium"]]);
    expect(judge("{% set n = '__subclasses__' %}")).toEqual([["chat-template.suspicious", "high"]]);
  });

  it("reports a template it cannot parse, and scans its names", () => {
    expect(judge("{% raw %}{{ hello }}{% endraw %}")).toEqual([
      ["chat-template.unparsable", "medium"],
    ]);
    expect(judge("{% with g = lipsum.__globals__ %}{{ g.os }}{% endwith %}")).toEqual([
      ["chat-template.sandbox-escape", "critical"],
      ["chat-template.unparsable", "medium"],
    ]);
    expect(worst("{{ x.__class__ ")).toBe("high");
    expect(worst("{% raw %}{{ x['\\x5f\\x5fglobals\\x5f\\x5f'] }}{% endraw %}")).toBe("critical");
  });

  it("checks what it can of a template too deep to walk, and scans the rest", () => {
    const deep = `{{ (lipsum.__globals__)${" ~ x".repeat(5000)} }}`;
    const findings = judge(deep);
    expect(findings[0]).toEqual(["chat-template.sandbox-escape", "critical"]);
    expect(findings).toContainEqual(["chat-template.unparsable", "medium"]);
  });

  it("bounds template size", () => {
    const findings = judge(`${"x".repeat(200)}{{ lipsum.__globals__ }}`.padEnd(300));
    expect(findings).toEqual([["chat-template.sandbox-escape", "critical"]]);
    expect(
      analyseChatTemplate("{{ lipsum.__globals__ }}".padEnd(300), { maxChars: 100 }).map(
        (f) => f.rule,
      ),
    ).toEqual(["limits.exceeded", "chat-template.sandbox-escape"]);
  });

  it("stays linear on long whitespace runs and long inputs", () => {
    expect(analyseChatTemplate(`${" ".repeat(1_000_000)}{{ x }}`)).toEqual([]);
    expect(analyseChatTemplate(`{{ '${" ".repeat(100_000)}' }}`)).toEqual([]);
    expect(
      analyseChatTemplate(
        `{% for m in messages %}${"{{ m.content }}".repeat(60_000)}{% endfor %}`,
      ).map((f) => f.rule),
    ).toEqual(["chat-template.unparsable"]);
  });

  it("walks a template of 200 000 expressions within its step budget", () => {
    const findings = analyseChatTemplate("{{x}}".repeat(200_000));
    expect(findings.map((f) => f.rule)).toEqual(["chat-template.unparsable"]);
  });

  it("never throws, on random text or mutated real templates", () => {
    const real = templates.filter((e) => e.expect === "safe").map((e) => read(e.file));
    const alphabet = fc.constantFrom(
      ..."{}%#()[]'\"\\|~.:,=_-+*/ abcxyz_0123456789\nset for if endfor endif in attr".split(" "),
    );
    fc.assert(
      fc.property(fc.array(alphabet, { maxLength: 60 }), (parts) => {
        expect(Array.isArray(analyseChatTemplate(parts.join("")))).toBe(true);
      }),
      { numRuns: 500 },
    );
    fc.assert(
      fc.property(
        fc.nat(real.length - 1),
        fc.array(fc.tuple(fc.nat(), fc.string({ maxLength: 3 })), { maxLength: 5 }),
        (which, edits) => {
          let t = real[which]!;
          for (const [at, s] of edits) {
            const i = at % (t.length + 1);
            t = t.slice(0, i) + s + t.slice(i + 1);
          }
          expect(Array.isArray(analyseChatTemplate(t))).toBe(true);
        },
      ),
      { numRuns: 300 },
    );
    fc.assert(
      fc.property(fc.string({ maxLength: 300, unit: "binary" }), (t) => {
        expect(Array.isArray(analyseChatTemplate(t))).toBe(true);
      }),
      { numRuns: 300 },
    );
  });
});
