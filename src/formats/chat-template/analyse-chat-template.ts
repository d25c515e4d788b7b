import { parse, tokenize } from "@huggingface/jinja";
import type { LocalFinding, Severity } from "../../core/finding.js";
import { severityRank } from "../../core/finding.js";
import {
  applyFilter,
  BUILDING_FILTERS,
  binary,
  type Const,
  ConstDict,
  callDictMethod,
  callStringMethod,
  combine,
  formatFieldNames,
  index,
  known,
  MAX_CONST_ITEMS,
  pyStr,
  slice,
  UNKNOWN,
  union,
  type Value,
  withTaint,
} from "./const-value.js";
import {
  asNode,
  child,
  childList,
  type JinjaNode,
  mapEntries,
  nodeChildren,
  numberField,
  operatorOf,
  showExpression,
  stringField,
} from "./jinja-ast.js";
import { lexicalFindings } from "./lexical-scan.js";
import {
  DANGEROUS_NAMES,
  DUNDER_IN_TEXT,
  ESCAPE_ROOTS,
  GATEWAY_NAMES,
  isDunder,
  isPrivate,
} from "./names.js";
import { CHAT_TEMPLATE_RULES } from "./rules.js";
import { prepareForParser, scanTemplateSource, type TemplateSource } from "./template-source.js";

/** Longest template parsed, in characters (real ones are 0.2–30 KB). Longer ones are only scanned. */
export const MAX_CHAT_TEMPLATE_CHARS = 1024 * 1024;
/** Longest template scanned by name when it is not parsed. */
const MAX_LEXICAL_CHARS = 16 * 1024 * 1024;
/** AST nesting walked (deeper expressions are scanned by name instead). */
const MAX_AST_DEPTH = 200;
/** Node evaluations per template (loops over constant lists and macro calls are replayed). */
const MAX_STEPS = 200_000;
/** Iterations of a loop over a constant sequence replayed one by one. */
const MAX_LOOP_ITERATIONS = 256;
/** Loops over constant sequences replayed item by item inside one another. */
const MAX_NESTED_REPLAYS = 2;
/** Macro calls followed into the macro body with their constant arguments. */
const MAX_MACRO_DEPTH = 3;
/** Findings kept per template. */
const MAX_FINDINGS = 50;

/** A lexer token of `@huggingface/jinja`. */
interface Token {
  value: string;
  type: string;
}
/**
 * The package's declaration files import `./lexer` without an extension, which NodeNext cannot
 * resolve, so its functions would be typed `any`: give them their real shapes here.
 */
const lex: (source: string) => Token[] = tokenize;
const parseTokens: (tokens: Token[]) => unknown = parse;
type Env = Map<string, Value>;

/** An attribute chain: `root.a['b']|attr(c)(…)…`, with the names it reaches. */
interface Chain {
  /** Identity of the chain (its root node): one finding per chain, however long it grows. */
  key: object;
  rootName?: string;
  attrs: string[];
  computed: { via: "attr" | "item" | "argument"; built: boolean }[];
  text: string;
  taint: readonly string[];
}

interface Accessed {
  value: Value;
  chain: Chain;
}

interface Args {
  positional: Value[];
  keywords: Map<string, Value>;
}

const STATEMENTS = new Set([
  "Program",
  "If",
  "For",
  "Set",
  "Macro",
  "CallStatement",
  "FilterStatement",
  "Break",
  "Continue",
  "Comment",
]);
/** Filters that look attributes up by name (Jinja's `make_attrgetter`). */
const ATTRIBUTE_FILTERS = new Set([
  "map",
  "sort",
  "groupby",
  "unique",
  "min",
  "max",
  "sum",
  "join",
  "selectattr",
  "rejectattr",
]);
const STRING_METHODS_THAT_BUILD = new Set([
  "join",
  "replace",
  "format",
  "format_map",
  "upper",
  "lower",
  "casefold",
  "title",
  "capitalize",
  "swapcase",
  "strip",
  "lstrip",
  "rstrip",
  "split",
  "removeprefix",
  "removesuffix",
]);
const KEYWORDS = new Set(["in", "and", "or", "not", "if", "else", "elif", "is", "for"]);
const OPERAND_END = new Set([
  "CloseParen",
  "CloseSquareBracket",
  "CloseCurlyBracket",
  "StringLiteral",
  "NumericLiteral",
]);

const isMangled = (name: string) => /^_[A-Za-z][A-Za-z0-9]*__[A-Za-z0-9_]+$/.test(name);
const isGateway = (name: string) => GATEWAY_NAMES.has(name) || isMangled(name);
const notable = (name: string) =>
  isGateway(name) || isDunder(name) || isPrivate(name) || DANGEROUS_NAMES.has(name);

function finding(
  key: keyof typeof CHAT_TEMPLATE_RULES,
  message: string,
  severity?: Severity,
  pseudocode?: string,
): LocalFinding {
  const rule = CHAT_TEMPLATE_RULES[key];
  const f: LocalFinding = { rule: rule.id, severity: severity ?? rule.severity, message };
  if (pseudocode !== undefined) f.evidence = { pseudocode };
  if (key === "sandboxEscape") f.references = ["CVE-2024-34359"];
  return f;
}

const copy = (env: Env): Env => new Map(env);

function isStringy(v: Value): boolean {
  return v.values.some((c) => typeof c === "string" || Array.isArray(c));
}

function strings(v: Value): string[] {
  return v.values.filter((c): c is string => typeof c === "string");
}

function exactConsts(keywords: Map<string, Value>): Map<string, Const> | undefined {
  const out = new Map<string, Const>();
  for (const [k, v] of keywords) {
    if (!v.exact || v.values.length !== 1) return undefined;
    out.set(k, v.values[0]!);
  }
  return out;
}

/** Keeps the more severe of two findings for one key (the later one on a tie: a longer chain). */
function keepWorse(map: Map<object, LocalFinding>, key: object, f: LocalFinding): void {
  const previous = map.get(key);
  if (!previous || severityRank(f.severity) >= severityRank(previous.severity)) map.set(key, f);
}

class TemplateWalker {
  private readonly drafts = new Map<object, LocalFinding>();
  private readonly literals = new Map<object, LocalFinding>();
  private readonly assigned = new Set<string>();
  private readonly macros = new Map<string, JinjaNode>();
  private readonly inlining = new Set<JinjaNode>();
  private steps = 0;
  private macroDepth = 0;
  /** Loops being replayed item by item (nested replays multiply: only two levels are replayed). */
  private replaying = 0;
  /** Why the walk stopped early, if it did. */
  incomplete: string | undefined;

  run(program: JinjaNode): LocalFinding[] {
    this.collectNames(program);
    this.block(childList(program, "body"), new Map(), 0);
    const drafts = [...this.drafts.values()];
    const worst = drafts.reduce((w, f) => Math.max(w, severityRank(f.severity)), 0);
    for (const f of this.literals.values()) {
      if (severityRank(f.severity) > worst) drafts.push(f);
    }
    return drafts;
  }

  /** Names the template assigns itself (anything else comes from the renderer's globals). */
  private collectNames(program: JinjaNode): void {
    const stack: JinjaNode[] = [program];
    let budget = MAX_STEPS;
    const addTarget = (n: JinjaNode | undefined) => {
      if (!n) return;
      if (n.type === "Identifier") this.assigned.add(stringField(n, "value") ?? "");
      else if (n.type === "TupleLiteral") for (const t of childList(n, "value")) addTarget(t);
      else if (n.type === "KeywordArgumentExpression") addTarget(child(n, "key"));
    };
    while (stack.length > 0 && budget-- > 0) {
      const n = stack.pop()!;
      if (n.type === "Set") addTarget(child(n, "assignee"));
      else if (n.type === "For") addTarget(child(n, "loopvar"));
      else if (n.type === "Macro") {
        const name = child(n, "name");
        addTarget(name);
        const value = name && stringField(name, "value");
        if (value !== undefined) this.macros.set(value, n);
        for (const p of childList(n, "args")) addTarget(p);
      } else if (n.type === "CallStatement") {
        for (const p of childList(n, "callerArgs")) addTarget(p);
      }
      for (const c of nodeChildren(n)) stack.push(c);
    }
  }

  private enter(depth: number): boolean {
    if (depth > MAX_AST_DEPTH) {
      this.incomplete ??= `it nests deeper than ${MAX_AST_DEPTH} levels`;
      return false;
    }
    if (++this.steps > MAX_STEPS) {
      this.incomplete ??= `walking it takes more than ${MAX_STEPS} steps`;
      return false;
    }
    return true;
  }

  // ---- statements ---------------------------------------------------------------------

  private block(nodes: readonly JinjaNode[], env: Env, depth: number): void {
    for (const n of nodes) this.statement(n, env, depth);
  }

  private statement(n: JinjaNode, env: Env, depth: number): void {
    if (!this.enter(depth)) return;
    const d = depth + 1;
    switch (n.type) {
      case "StringLiteral":
      case "Comment":
      case "Break":
      case "Continue":
        return;
      case "Program":
        this.block(childList(n, "body"), env, d);
        return;
      case "Set":
        this.setStatement(n, env, d);
        return;
      case "If": {
        const test = child(n, "test");
        if (test) this.expr(test, env, d);
        const a = copy(env);
        this.block(childList(n, "body"), a, d);
        const b = copy(env);
        this.block(childList(n, "alternate"), b, d);
        mergeInto(env, a, b);
        return;
      }
      case "For":
        this.forLoop(n, env, d);
        return;
      case "Macro": {
        const inner = copy(env);
        this.bindParameters(n, { positional: [], keywords: new Map() }, inner, d);
        this.block(childList(n, "body"), inner, d);
        return;
      }
      case "CallStatement": {
        const call = child(n, "call");
        if (call) this.expr(call, env, d);
        const inner = copy(env);
        for (const p of childList(n, "callerArgs")) this.bindTarget(p, UNKNOWN, inner, d);
        this.block(childList(n, "body"), inner, d);
        return;
      }
      case "FilterStatement": {
        // `{% filter attr(name) %}…{% endfilter %}` looks `name` up on the block's output.
        const filter = child(n, "filter");
        if (filter?.type === "CallExpression") {
          const args = this.args(childList(filter, "args"), env, d);
          const callee = child(filter, "callee");
          if (callee && stringField(callee, "value") === "attr") {
            const a0 = args.positional[0] ?? UNKNOWN;
            this.report({
              key: n,
              attrs: strings(a0),
              computed: a0.exact ? [] : [{ via: "attr", built: a0.built }],
              text: `{% filter ${showExpression(filter, 120)} %}`,
              taint: [],
            });
          }
        }
        this.block(childList(n, "body"), env, d);
        return;
      }
      default:
        if (STATEMENTS.has(n.type)) {
          for (const c of nodeChildren(n)) this.any(c, env, d);
        } else {
          this.expr(n, env, d);
        }
    }
  }

  private any(n: JinjaNode, env: Env, depth: number): void {
    if (STATEMENTS.has(n.type)) this.statement(n, env, depth);
    else this.expr(n, env, depth);
  }

  private setStatement(n: JinjaNode, env: Env, depth: number): void {
    const assignee = child(n, "assignee");
    const valueNode = child(n, "value");
    let value: Value;
    if (valueNode) {
      value = this.expr(valueNode, env, depth);
    } else {
      const pieces: Value[] = [];
      for (const s of childList(n, "body")) {
        if (s.type === "StringLiteral") pieces.push(known(stringField(s, "value") ?? ""));
        else if (STATEMENTS.has(s.type)) {
          this.statement(s, env, depth);
          pieces.push(UNKNOWN);
        } else pieces.push(this.expr(s, env, depth));
      }
      value = combine(pieces, (xs) => xs.map(pyStr).join(""), pieces.length > 1);
      if (value.built) this.builtString(n, value, "a {% set %} block");
    }
    if (assignee) this.bindTarget(assignee, value, env, depth);
  }

  private bindTarget(target: JinjaNode, value: Value, env: Env, depth: number): void {
    if (target.type === "Identifier") {
      const name = stringField(target, "value") ?? "";
      for (const key of [...env.keys()]) if (key.startsWith(`${name}.`)) env.delete(key);
      env.set(name, value);
      if (value.exact && value.values.length === 1 && value.values[0] instanceof ConstDict) {
        for (const [k, v] of value.values[0].entries) env.set(`${name}.${k}`, known(v));
      }
      return;
    }
    if (target.type === "KeywordArgumentExpression") {
      const key = child(target, "key");
      if (key) this.bindTarget(key, value, env, depth);
      return;
    }
    if (target.type === "MemberExpression" && target.computed !== true) {
      const object = child(target, "object");
      const property = child(target, "property");
      this.access(target, env, depth);
      if (object?.type === "Identifier" && property?.type === "Identifier") {
        env.set(`${stringField(object, "value")}.${stringField(property, "value")}`, value);
      }
      return;
    }
    if (target.type === "TupleLiteral") {
      const targets = childList(target, "value");
      const only = value.exact && value.values.length === 1 ? value.values[0] : undefined;
      const items =
        Array.isArray(only) && only.length === targets.length ? (only as Const[]) : undefined;
      targets.forEach((t, i) => {
        this.bindTarget(t, items ? known(items[i]!) : withTaint(UNKNOWN, value.taint), env, depth);
      });
      return;
    }
    this.expr(target, env, depth);
  }

  private forLoop(n: JinjaNode, env: Env, depth: number): void {
    const loopvar = child(n, "loopvar");
    let iterable = child(n, "iterable");
    let filter: JinjaNode | undefined;
    if (iterable?.type === "SelectExpression") {
      filter = child(iterable, "test");
      iterable = child(iterable, "lhs");
    }
    const it = iterable ? this.expr(iterable, env, depth) : UNKNOWN;
    const body = childList(n, "body");
    const base = copy(env);
    base.set("loop", UNKNOWN);
    const sequences = it.exact && it.values.length > 0 ? it.values.map(iterate) : undefined;
    const total = sequences?.reduce((s, q) => s + (q?.length ?? Number.POSITIVE_INFINITY), 0) ?? 0;
    const replay = this.replaying < MAX_NESTED_REPLAYS && !filter && total <= MAX_LOOP_ITERATIONS;
    if (sequences && replay && sequences.every((q) => q)) {
      this.replaying++;
      const ends: Env[] = [];
      for (const seq of sequences) {
        let state = copy(base);
        for (const item of seq!) {
          const iteration = copy(state);
          if (loopvar) this.bindTarget(loopvar, known(item), iteration, depth);
          this.block(body, iteration, depth);
          state = carryNamespaces(state, iteration, false);
        }
        ends.push(state);
      }
      this.replaying--;
      let merged = ends[0]!;
      for (const e of ends.slice(1)) merged = carryNamespaces(merged, e, true);
      for (const [k, v] of merged) if (k.includes(".")) env.set(k, v);
    } else {
      const elements = it.values.flatMap((c) => iterate(c) ?? []);
      const listed = unionOf(elements);
      const element = withTaint(
        elements.length > 0 ? { ...listed, exact: listed.exact && it.exact } : UNKNOWN,
        it.taint,
      );
      let state = copy(base);
      for (let pass = 0; pass < 2; pass++) {
        const iteration = copy(state);
        if (loopvar) this.bindTarget(loopvar, element, iteration, depth);
        if (filter) this.expr(filter, iteration, depth);
        this.block(body, iteration, depth);
        state = carryNamespaces(state, iteration, true);
      }
      for (const [k, v] of state) {
        if (!k.includes(".")) continue;
        const before = env.get(k);
        env.set(k, before ? union(before, v) : { ...v, exact: false });
      }
    }
    this.block(childList(n, "defaultBlock"), copy(env), depth);
  }

  private bindParameters(macro: JinjaNode, args: Args, env: Env, depth: number): void {
    childList(macro, "args").forEach((p, i) => {
      if (p.type === "Identifier") {
        const name = stringField(p, "value") ?? "";
        env.set(name, args.positional[i] ?? args.keywords.get(name) ?? UNKNOWN);
      } else if (p.type === "KeywordArgumentExpression") {
        const key = child(p, "key");
        const name = key ? (stringField(key, "value") ?? "") : "";
        const dflt = child(p, "value");
        const given = args.positional[i] ?? args.keywords.get(name);
        env.set(name, given ?? (dflt ? this.expr(dflt, env, depth) : UNKNOWN));
      }
    });
    for (const name of ["varargs", "kwargs", "caller"]) if (!env.has(name)) env.set(name, UNKNOWN);
  }

  /** Follows a macro call into the macro's body with the call's arguments. */
  private inline(macro: JinjaNode, args: Args, env: Env, depth: number): void {
    if (this.macroDepth >= MAX_MACRO_DEPTH || this.inlining.has(macro)) return;
    const informative = [...args.positional, ...args.keywords.values()].some(
      (v) => v.values.length > 0 || v.taint.length > 0,
    );
    if (!informative) return;
    this.macroDepth++;
    this.inlining.add(macro);
    const inner = copy(env);
    this.bindParameters(macro, args, inner, depth);
    this.block(childList(macro, "body"), inner, depth);
    this.inlining.delete(macro);
    this.macroDepth--;
  }

  // ---- expressions --------------------------------------------------------------------

  private expr(n: JinjaNode, env: Env, depth: number): Value {
    if (!this.enter(depth)) return UNKNOWN;
    const d = depth + 1;
    switch (n.type) {
      case "StringLiteral": {
        const value = stringField(n, "value") ?? "";
        this.literal(n, value);
        return known(value);
      }
      case "IntegerLiteral":
      case "FloatLiteral":
        return known(numberField(n, "value") ?? 0);
      case "Identifier":
      case "MemberExpression":
      case "CallExpression":
      case "FilterExpression":
        return this.access(n, env, depth).value;
      case "ArrayLiteral":
      case "TupleLiteral": {
        const items = childList(n, "value").map((c) => this.expr(c, env, d));
        const taint = items.flatMap((v) => v.taint);
        return withTaint(
          items.length === 0 ? known([]) : combine(items, (xs) => [...xs], false),
          taint,
        );
      }
      case "ObjectLiteral": {
        const keys: string[] = [];
        const values: Value[] = [];
        let exact = true;
        for (const [k, v] of mapEntries(n, "value")) {
          const kv = this.expr(k, env, d);
          const vv = this.expr(v, env, d);
          const only = kv.exact && kv.values.length === 1 ? kv.values[0] : undefined;
          if (typeof only === "string") {
            keys.push(only);
            values.push(vv);
          } else exact = false;
        }
        if (!exact) return UNKNOWN;
        return combine(
          values,
          (xs) => new ConstDict(new Map(keys.map((k, i) => [k, xs[i]!]))),
          false,
        );
      }
      case "BinaryExpression":
        return this.binaryExpression(n, env, d);
      case "UnaryExpression": {
        const argument = child(n, "argument");
        const v = argument ? this.expr(argument, env, d) : UNKNOWN;
        const op = operatorOf(n);
        if (op === "-" || op === "+") {
          return combine(
            [v],
            ([x]) => (typeof x === "number" ? (op === "-" ? -x : x) : undefined),
            false,
          );
        }
        return UNKNOWN;
      }
      case "Ternary": {
        const condition = child(n, "condition");
        if (condition) this.expr(condition, env, d);
        const a = child(n, "trueExpr");
        const b = child(n, "falseExpr");
        return union(a ? this.expr(a, env, d) : UNKNOWN, b ? this.expr(b, env, d) : UNKNOWN);
      }
      case "SelectExpression": {
        const test = child(n, "test");
        if (test) this.expr(test, env, d);
        const lhs = child(n, "lhs");
        const v = lhs ? this.expr(lhs, env, d) : UNKNOWN;
        return { ...v, exact: false };
      }
      case "TestExpression": {
        const operand = child(n, "operand");
        if (operand) this.expr(operand, env, d);
        return UNKNOWN;
      }
      case "KeywordArgumentExpression": {
        const value = child(n, "value");
        return value ? this.expr(value, env, d) : UNKNOWN;
      }
      default:
        for (const c of nodeChildren(n)) this.any(c, env, d);
        return UNKNOWN;
    }
  }

  private binaryExpression(n: JinjaNode, env: Env, depth: number): Value {
    const op = operatorOf(n);
    const left = child(n, "left");
    const right = child(n, "right");
    const a = left ? this.expr(left, env, depth) : UNKNOWN;
    const b = right ? this.expr(right, env, depth) : UNKNOWN;
    const taint = [...a.taint, ...b.taint];
    if (op === "and" || op === "or") return withTaint({ ...union(a, b), exact: false }, taint);
    if (!["~", "+", "-", "*", "%", "/", "//"].includes(op)) return withTaint(UNKNOWN, taint);
    const building = op === "~" || (["+", "*", "%"].includes(op) && (isStringy(a) || isStringy(b)));
    const result = combine([a, b], ([x, y]) => binary(op, x!, y!), building || a.built || b.built);
    if (building) this.builtString(n, result, `the ${op} operator`);
    return withTaint(result, taint);
  }

  private args(nodes: readonly JinjaNode[], env: Env, depth: number): Args {
    const positional: Value[] = [];
    const keywords = new Map<string, Value>();
    for (const a of nodes) {
      if (a.type === "KeywordArgumentExpression") {
        const key = child(a, "key");
        const value = child(a, "value");
        keywords.set(
          key ? (stringField(key, "value") ?? "") : "",
          value ? this.expr(value, env, depth) : UNKNOWN,
        );
      } else {
        positional.push(this.expr(a, env, depth));
      }
    }
    return { positional, keywords };
  }

  /** Identifiers, attribute/item access, calls and filters: evaluated as attribute chains. */
  private access(n: JinjaNode, env: Env, depth: number): Accessed {
    const fallback: Accessed = { value: UNKNOWN, chain: rootChain(n, UNKNOWN) };
    if (!this.enter(depth)) return fallback;
    const d = depth + 1;
    switch (n.type) {
      case "Identifier": {
        const name = stringField(n, "value") ?? "";
        const value = identifierValue(name, env);
        const chain: Chain = {
          key: n,
          rootName: name,
          attrs: [],
          computed: [],
          text: name,
          taint: value.taint,
        };
        this.report(chain);
        return { value, chain };
      }
      case "MemberExpression":
        return this.member(n, env, d);
      case "CallExpression":
        return this.call(n, env, d);
      case "FilterExpression":
        return this.filter(n, env, d);
      default: {
        const value = this.expr(n, env, d);
        return { value, chain: rootChain(n, value) };
      }
    }
  }

  private member(n: JinjaNode, env: Env, depth: number): Accessed {
    const objectNode = child(n, "object");
    const property = child(n, "property");
    const inner = objectNode
      ? this.access(objectNode, env, depth)
      : { value: UNKNOWN, chain: rootChain(n, UNKNOWN) };
    const chain = {
      ...inner.chain,
      attrs: [...inner.chain.attrs],
      computed: [...inner.chain.computed],
    };
    let value: Value;
    if (n.computed !== true) {
      const name = property
        ? (stringField(property, "value") ?? String(numberField(property, "value") ?? "?"))
        : "?";
      chain.attrs.push(name);
      chain.text = `${inner.chain.text}.${name}`;
      const namespaced =
        objectNode?.type === "Identifier"
          ? env.get(`${stringField(objectNode, "value")}.${name}`)
          : undefined;
      value =
        namespaced ??
        combine(
          [inner.value],
          ([x]) => (x instanceof ConstDict ? x.entries.get(name) : undefined),
          false,
        );
    } else if (property?.type === "SliceExpression") {
      const part = (f: string) => {
        const p = child(property, f);
        return p ? this.expr(p, env, depth) : known(null);
      };
      const [start, stop, step] = [part("start"), part("stop"), part("step")];
      chain.text = `${inner.chain.text}[${showExpression(property, 40)}]`;
      value = combine(
        [inner.value, start, stop, step],
        ([x, a, b, c]) => slice(x!, a, b, c),
        isStringy(inner.value),
      );
      if (value.built) this.builtString(n, value, "slicing");
    } else {
      const key = property ? this.expr(property, env, depth) : UNKNOWN;
      chain.text = `${inner.chain.text}[${showExpression(property, 60)}]`;
      const names = strings(key);
      chain.attrs.push(...names);
      if (!key.exact && key.built) chain.computed.push({ via: "item", built: true });
      value = combine([inner.value, key], ([x, k]) => index(x!, k!), false);
    }
    chain.taint = inner.chain.taint;
    this.report(chain);
    return { value: withTaint(value, chainTaint(chain)), chain };
  }

  private call(n: JinjaNode, env: Env, depth: number): Accessed {
    const callee = child(n, "callee");
    const args = this.args(childList(n, "args"), env, depth);
    const argText = childList(n, "args")
      .map((a) => showExpression(a, 40))
      .join(", ");
    if (callee?.type === "MemberExpression" && callee.computed !== true) {
      const receiverNode = child(callee, "object");
      const property = child(callee, "property");
      const method = property ? (stringField(property, "value") ?? "?") : "?";
      const receiver = receiverNode
        ? this.access(receiverNode, env, depth)
        : { value: UNKNOWN, chain: rootChain(callee, UNKNOWN) };
      const chain: Chain = {
        ...receiver.chain,
        attrs: [...receiver.chain.attrs, method],
        computed: [...receiver.chain.computed],
        text: `${receiver.chain.text}.${method}(${argText})`,
      };
      if (method === "format" || method === "format_map") {
        for (const fmt of strings(receiver.value)) chain.attrs.push(...formatFieldNames(fmt));
      }
      const kw = exactConsts(args.keywords);
      const building = STRING_METHODS_THAT_BUILD.has(method) && isStringy(receiver.value);
      const value = kw
        ? combine(
            [receiver.value, ...args.positional],
            ([r, ...rest]) =>
              typeof r === "string"
                ? callStringMethod(r, method, rest, kw)
                : r instanceof ConstDict
                  ? callDictMethod(r, method, rest)
                  : undefined,
            building,
          )
        : { ...UNKNOWN, built: building };
      if (building) this.builtString(n, value, `.${method}()`);
      this.report(chain);
      return { value: withTaint(value, chainTaint(chain)), chain };
    }
    if (callee?.type === "Identifier") {
      const name = stringField(callee, "value") ?? "";
      const macro = this.macros.get(name);
      if (macro && !env.has(name)) this.inline(macro, args, env, depth);
      const value = builtinCall(name, args);
      const chain: Chain = {
        key: callee,
        rootName: name,
        attrs: [],
        computed: [],
        text: `${name}(${argText})`,
        taint: [],
      };
      this.report(chain);
      return { value, chain };
    }
    const inner = callee
      ? this.access(callee, env, depth)
      : { value: UNKNOWN, chain: rootChain(n, UNKNOWN) };
    const chain: Chain = { ...inner.chain, text: `${inner.chain.text}(${argText})` };
    this.report(chain);
    return { value: withTaint(UNKNOWN, chainTaint(chain)), chain };
  }

  private filter(n: JinjaNode, env: Env, depth: number): Accessed {
    const operand = child(n, "operand");
    const filterNode = child(n, "filter");
    const inner = operand
      ? this.access(operand, env, depth)
      : { value: UNKNOWN, chain: rootChain(n, UNKNOWN) };
    let name = "?";
    let argNodes: JinjaNode[] = [];
    if (filterNode?.type === "Identifier") name = stringField(filterNode, "value") ?? "?";
    else if (filterNode?.type === "CallExpression") {
      const callee = child(filterNode, "callee");
      name = callee ? (stringField(callee, "value") ?? "?") : "?";
      argNodes = childList(filterNode, "args");
    }
    const args = this.args(argNodes, env, depth);
    const chain: Chain = {
      ...inner.chain,
      attrs: [...inner.chain.attrs],
      computed: [...inner.chain.computed],
      text: `${inner.chain.text}|${filterNode ? showExpression(filterNode, 80) : name}`,
    };
    const attributeArguments: Value[] = [];
    if (name === "attr") {
      const a0 = args.positional[0] ?? UNKNOWN;
      chain.attrs.push(...strings(a0));
      if (!a0.exact || a0.values.some((c) => typeof c !== "string")) {
        chain.computed.push({ via: "attr", built: a0.built });
      }
    } else if (name === "map" && strings(args.positional[0] ?? UNKNOWN).includes("attr")) {
      attributeArguments.push(args.positional[1] ?? UNKNOWN);
    } else if (ATTRIBUTE_FILTERS.has(name)) {
      const attribute = args.keywords.get("attribute");
      if (attribute) attributeArguments.push(attribute);
      if (
        (name === "selectattr" || name === "rejectattr" || name === "groupby") &&
        args.positional[0]
      ) {
        attributeArguments.push(args.positional[0]);
      }
    }
    for (const a of attributeArguments) {
      for (const s of strings(a)) chain.attrs.push(...s.split("."));
      if (!a.exact) chain.computed.push({ via: "argument", built: a.built });
    }
    let value: Value;
    const building = BUILDING_FILTERS.has(name) && (isStringy(inner.value) || inner.value.built);
    if (name === "default" || name === "d") {
      value =
        inner.value.exact && inner.value.values.length > 0
          ? inner.value
          : union({ ...inner.value, exact: false }, args.positional[0] ?? known(""));
    } else {
      const kw = exactConsts(args.keywords);
      value = kw
        ? combine(
            [inner.value, ...args.positional],
            ([x, ...rest]) => applyFilter(name, x!, rest, kw),
            building,
          )
        : { ...UNKNOWN, built: building };
    }
    if (building) this.builtString(n, value, `the ${name} filter`);
    this.report(chain);
    return { value: withTaint(value, chainTaint(chain)), chain };
  }

  // ---- judging --------------------------------------------------------------------------

  private literal(n: JinjaNode, value: string): void {
    const m = DUNDER_IN_TEXT.exec(value);
    if (!m) return;
    const gateway = isGateway(m[0]) || value.includes("_TemplateReference__");
    keepWorse(
      this.literals,
      n,
      finding(
        "suspicious",
        `A string in the template's code names the Python internal ${m[0]}; no chat template needs one (it may be used to build an attribute name).`,
        gateway ? "high" : "medium",
        showExpression(n, 120),
      ),
    );
  }

  private builtString(n: JinjaNode, value: Value, how: string): void {
    for (const s of strings(value)) {
      const m = DUNDER_IN_TEXT.exec(s);
      if (m || isGateway(s)) {
        keepWorse(
          this.drafts,
          n,
          finding(
            "suspicious",
            `The template builds the name ${JSON.stringify(m?.[0] ?? s)} from pieces (${how}): hiding a Python internal from a plain reading is an evasion sign.`,
            "high",
            `${showExpression(n, 160)}  →  ${JSON.stringify(s.slice(0, 80))}`,
          ),
        );
        return;
      }
      if (DANGEROUS_NAMES.has(s)) {
        keepWorse(
          this.drafts,
          n,
          finding(
            "suspicious",
            `The template builds the name ${JSON.stringify(s)} from pieces (${how}).`,
            "medium",
            `${showExpression(n, 160)}  →  ${JSON.stringify(s)}`,
          ),
        );
      }
    }
  }

  private report(chain: Chain): void {
    const host =
      chain.rootName !== undefined && !this.assigned.has(chain.rootName)
        ? chain.rootName
        : undefined;
    const names = [...chain.attrs, ...chain.taint, ...(host ? [host] : [])];
    const gateway = names.find(isGateway);
    const dunder = names.find((x) => isDunder(x) || isPrivate(x));
    const danger = names.find((x) => DANGEROUS_NAMES.has(x));
    const computedAttr = chain.computed.find((c) => c.via === "attr");
    const computedOther = chain.computed.find((c) => c.via !== "attr");
    const text = chain.text;
    let f: LocalFinding | undefined;
    if (gateway || (dunder && danger)) {
      const reached = [...new Set(names.filter(notable))].join(", ");
      f = finding(
        "sandboxEscape",
        `\`${short(text)}\` reaches ${reached}: a Jinja sandbox escape (from an object to Python's globals, builtins, class list or a command runner). A renderer without a sandbox — llama-cpp-python before 0.2.72 (CVE-2024-34359), any plain jinja2.Environment — runs it.`,
        undefined,
        short(text),
      );
    } else if (dunder) {
      f = finding(
        "suspicious",
        `\`${short(text)}\` uses the Python internal ${dunder}: Jinja sandboxes refuse it and no chat template needs it.`,
        "high",
        short(text),
      );
    } else if (host && DANGEROUS_NAMES.has(host)) {
      f = finding(
        "suspicious",
        `\`${short(text)}\` uses the global ${host}, which Jinja does not define: only a renderer that exposes it would run this.`,
        "high",
        short(text),
      );
    } else if (host && ESCAPE_ROOTS.has(host) && danger) {
      f = finding(
        "suspicious",
        `\`${short(text)}\` reaches ${danger} from the Jinja global ${host}.`,
        "high",
        short(text),
      );
    } else if (computedAttr) {
      f = finding(
        "suspicious",
        `\`${short(text)}\` looks an attribute up by a name computed while rendering (attr() with a non-constant name): the classic way to hide a sandbox escape from a reader.`,
        "high",
        short(text),
      );
    } else if (danger) {
      f = finding(
        "suspicious",
        `\`${short(text)}\` accesses an attribute named ${danger}.`,
        "medium",
        short(text),
      );
    } else if (computedOther) {
      f = finding(
        "suspicious",
        `\`${short(text)}\` looks an attribute or item up by a name built from strings while rendering.`,
        "medium",
        short(text),
      );
    }
    if (f) keepWorse(this.drafts, chain.key, f);
  }
}

function short(text: string): string {
  return text.length > 240 ? `${text.slice(0, 239)}…` : text;
}

function chainTaint(chain: Chain): readonly string[] {
  const names = chain.attrs.filter(notable);
  return names.length === 0 ? chain.taint : [...new Set([...chain.taint, ...names])].slice(0, 16);
}

function rootChain(n: JinjaNode, value: Value): Chain {
  return { key: n, attrs: [], computed: [], text: showExpression(n, 80), taint: value.taint };
}

function identifierValue(name: string, env: Env): Value {
  if (name === "true" || name === "True") return known(true);
  if (name === "false" || name === "False") return known(false);
  if (name === "none" || name === "None") return known(null);
  return env.get(name) ?? UNKNOWN;
}

function builtinCall(name: string, args: Args): Value {
  if (name === "namespace" || name === "dict") {
    const entries = new Map<string, Const>();
    let exact = args.positional.length === 0;
    for (const [k, v] of args.keywords) {
      if (v.exact && v.values.length === 1) entries.set(k, v.values[0]!);
      else exact = false;
    }
    return { ...known(new ConstDict(entries)), exact };
  }
  if (name === "range") {
    const nums = args.positional.map((v) =>
      v.exact && v.values.length === 1 ? v.values[0] : undefined,
    );
    if (nums.length === 0 || nums.some((x) => typeof x !== "number" || !Number.isInteger(x)))
      return UNKNOWN;
    const [a, b, c] = nums as number[];
    const [start, stop, step] = nums.length === 1 ? [0, a!, 1] : [a!, b!, c ?? 1];
    if (step === 0) return UNKNOWN;
    const out: number[] = [];
    for (let i = start; step > 0 ? i < stop : i > stop; i += step) {
      if (out.length >= MAX_CONST_ITEMS) return UNKNOWN;
      out.push(i);
    }
    return known(out);
  }
  return UNKNOWN;
}

/** What iterating a constant yields: a string's characters, a list's items, a dict's keys. */
function iterate(c: Const): readonly Const[] | undefined {
  if (typeof c === "string") return [...c];
  if (Array.isArray(c)) return c as readonly Const[];
  if (c instanceof ConstDict) return [...c.entries.keys()];
  return undefined;
}

function unionOf(items: readonly Const[]): Value {
  let v: Value = { values: [], exact: true, built: false, taint: [] };
  for (const c of items) v = union(v, known(c));
  return v;
}

/** `{% set ns.x = … %}` survives a loop iteration; plain `set` does not (Jinja's scoping). */
function carryNamespaces(state: Env, iteration: Env, merge: boolean): Env {
  const next = copy(state);
  for (const [k, v] of iteration) {
    if (!k.includes(".")) continue;
    const before = next.get(k);
    next.set(k, merge && before ? union(before, v) : v);
  }
  return next;
}

/** After an `if`: each variable is whatever either branch left. */
function mergeInto(env: Env, a: Env, b: Env): void {
  for (const key of new Set([...a.keys(), ...b.keys()])) {
    const x = a.get(key);
    const y = b.get(key);
    env.set(key, x && y ? union(x, y) : { ...(x ?? y ?? UNKNOWN), exact: false });
  }
}

/** Rewrites Jinja2 syntax the Hugging Face parser lacks into equivalents it reads. */
function rewriteTokens(tokens: readonly Token[]): Token[] {
  const proto = tokens[0] ? Object.getPrototypeOf(tokens[0]) : Object.prototype;
  const make = (value: string, type: string): Token =>
    Object.assign(Object.create(proto) as Token, { value, type });
  const endsOperand = (t: Token | undefined) =>
    t !== undefined &&
    ((t.type === "Identifier" && !KEYWORDS.has(t.value)) || OPERAND_END.has(t.type));
  const out: Token[] = [];
  const parens: { at: number; call: boolean }[] = [];
  for (let i = 0; i < tokens.length; i++) {
    const t = tokens[i]!;
    const next = tokens[i + 1];
    if (t.type === "OpenParen" && next?.type === "CloseParen" && !endsOperand(out.at(-1))) {
      // `()` that is not a call is an empty tuple: `[]` behaves the same for the analysis.
      out.push(make("[", "OpenSquareBracket"), make("]", "CloseSquareBracket"));
      i++;
      continue;
    }
    if (t.type === "OpenParen") {
      const prev = out.at(-1);
      const beforePrev = out.at(-2);
      const testCall =
        prev?.type === "Identifier" &&
        beforePrev?.type === "Identifier" &&
        (beforePrev.value === "is" || (beforePrev.value === "not" && out.at(-3)?.value === "is"));
      if (testCall) {
        // `x is divisibleby(3)`: keep the arguments in the tree as `x is divisibleby and (3)`.
        out.push(make("and", "Identifier"));
      }
      parens.push({ at: out.length, call: !testCall && endsOperand(prev) });
      out.push(t);
      continue;
    }
    if (t.type === "CloseParen") {
      parens.pop();
      out.push(t);
      continue;
    }
    if (t.type === "Comma" && next?.type === "CloseParen") {
      // `(x,)`: a one-item tuple becomes `[x]`; a trailing comma in a call is just dropped.
      const open = parens.at(-1);
      if (open && !open.call) {
        out[open.at] = make("[", "OpenSquareBracket");
        out.push(make("]", "CloseSquareBracket"));
        parens.pop();
        i++;
      }
      continue;
    }
    out.push(t);
  }
  return out;
}

function parseTemplate(prepared: string): { program?: JinjaNode; error?: string } {
  try {
    const program = asNode(parseTokens(rewriteTokens(lex(prepared))));
    return program ? { program } : { error: "the parser returned nothing" };
  } catch (e) {
    return { error: e instanceof Error ? e.message : String(e) };
  }
}

function limitFinding(message: string): LocalFinding {
  return finding("limitsExceeded", message);
}

function escapeFindings(source: TemplateSource): LocalFinding[] {
  const unresolved = source.regions.some(
    (r) => r.kind === "string" && "unresolvedName" in r && r.unresolvedName,
  );
  return unresolved
    ? [
        finding(
          "suspicious",
          "A string in the template's code uses a \\N{…} named-character escape modelvet does not resolve: an unusual way to spell text, and its value was not checked.",
          "medium",
        ),
      ]
    : [];
}

export interface ChatTemplateOptions {
  /** Longest template parsed, in characters. @default MAX_CHAT_TEMPLATE_CHARS */
  maxChars?: number;
}

/**
 * Analyses a Jinja chat template without rendering it: parses it with the Hugging Face Jinja
 * parser and walks the tree, evaluating constant string building, and reports what a sandbox
 * escape needs — dunder/private attribute or item access, chains reaching globals, builtins,
 * the class list or command runners, attribute names computed while rendering, names built from
 * pieces. Ordinary templates yield no findings. A template that cannot be parsed gets a medium
 * finding and is judged by the names in its code. Pure and bounded; never throws.
 */
export function analyseChatTemplate(
  template: string,
  options: ChatTemplateOptions = {},
): LocalFinding[] {
  const maxChars = options.maxChars ?? MAX_CHAT_TEMPLATE_CHARS;
  if (template.length > maxChars) {
    const scanned = template.slice(0, MAX_LEXICAL_CHARS);
    return [
      limitFinding(
        `The template is ${template.length} characters long, more than the ${maxChars} parsed; it was only scanned by name${template.length > MAX_LEXICAL_CHARS ? ` (its first ${MAX_LEXICAL_CHARS} characters)` : ""}.`,
      ),
      ...lexicalFindings(scanTemplateSource(scanned)),
    ];
  }
  const source = scanTemplateSource(template);
  const parsed = parseTemplate(prepareForParser(source));
  const findings: LocalFinding[] = [];
  if (!parsed.program) {
    findings.push(
      finding(
        "unparsable",
        `The template could not be parsed (${(parsed.error ?? "").slice(0, 160)}), so it was not checked; Jinja2 may still render it. The names in its code were scanned instead.`,
      ),
      ...lexicalFindings(source),
    );
  } else {
    const walker = new TemplateWalker();
    let walked: LocalFinding[];
    try {
      walked = walker.run(parsed.program);
    } catch (e) {
      // A stack overflow on hostile nesting the depth bound did not foresee: scan by name instead.
      if (!(e instanceof RangeError)) throw e;
      walked = [];
      walker.incomplete ??= "it nests too deeply to walk";
    }
    for (const f of walked) findings.push(f);
    if (walker.incomplete) {
      findings.push(
        finding(
          "unparsable",
          `The template could not be fully checked: ${walker.incomplete}. The names in its code were scanned instead.`,
        ),
        ...lexicalFindings(source),
      );
    }
  }
  findings.push(...escapeFindings(source));
  findings.sort((a, b) => severityRank(b.severity) - severityRank(a.severity));
  if (findings.length > MAX_FINDINGS) {
    const dropped = findings.length - MAX_FINDINGS;
    findings.length = MAX_FINDINGS;
    findings.push(limitFinding(`${dropped} more findings in this template were not kept.`));
  }
  return findings;
}
