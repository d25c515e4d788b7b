/**
 * A typed, read-only view of the AST `@huggingface/jinja`'s parser returns. The package exports
 * `parse` but not its node classes, so nodes are read structurally: every node has a string
 * `type`, and its fields are looked up and narrowed here. Unknown node types are still walked
 * through their node-valued fields, so a newer parser cannot hide an expression from the walker.
 */

export interface JinjaNode {
  readonly type: string;
  readonly [field: string]: unknown;
}

export function asNode(value: unknown): JinjaNode | undefined {
  if (typeof value !== "object" || value === null) return undefined;
  const type = (value as { type?: unknown }).type;
  return typeof type === "string" ? (value as JinjaNode) : undefined;
}

export function child(node: JinjaNode, field: string): JinjaNode | undefined {
  return asNode(node[field]);
}

export function childList(node: JinjaNode, field: string): JinjaNode[] {
  const value = node[field];
  if (!Array.isArray(value)) return [];
  const out: JinjaNode[] = [];
  for (const v of value) {
    const n = asNode(v);
    if (n) out.push(n);
  }
  return out;
}

/** An object literal's entries (a `Map` of key node → value node). */
export function mapEntries(node: JinjaNode, field: string): [JinjaNode, JinjaNode][] {
  const value = node[field];
  if (!(value instanceof Map)) return [];
  const out: [JinjaNode, JinjaNode][] = [];
  for (const [k, v] of value) {
    const key = asNode(k);
    const val = asNode(v);
    if (key && val) out.push([key, val]);
  }
  return out;
}

export function stringField(node: JinjaNode, field: string): string | undefined {
  const value = node[field];
  return typeof value === "string" ? value : undefined;
}

export function numberField(node: JinjaNode, field: string): number | undefined {
  const value = node[field];
  return typeof value === "number" ? value : undefined;
}

/** The operator text of a binary or unary expression (`~`, `+`, `and`, `not`, …). */
export function operatorOf(node: JinjaNode): string {
  const op = node.operator;
  if (typeof op === "object" && op !== null) {
    const value = (op as { value?: unknown }).value;
    if (typeof value === "string") return value;
  }
  return "?";
}

/** Every node reachable from `node`'s own fields (for node types the walker does not know). */
export function nodeChildren(node: JinjaNode): JinjaNode[] {
  const out: JinjaNode[] = [];
  for (const [field, value] of Object.entries(node)) {
    if (field === "type" || field === "operator") continue;
    if (Array.isArray(value)) {
      for (const v of value) {
        const n = asNode(v);
        if (n) out.push(n);
      }
    } else if (value instanceof Map) {
      for (const [k, v] of value) {
        const kn = asNode(k);
        const vn = asNode(v);
        if (kn) out.push(kn);
        if (vn) out.push(vn);
      }
    } else {
      const n = asNode(value);
      if (n) out.push(n);
    }
  }
  return out;
}

const quote = (s: string) =>
  `'${s.replace(/\\/g, "\\\\").replace(/'/g, "\\'").replace(/\n/g, "\\n")}'`;

/** Jinja-like source text for an expression, shortened to about `max` characters. */
export function showExpression(node: JinjaNode | undefined, max = 240): string {
  const text = show(node, 0);
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}

function show(node: JinjaNode | undefined, depth: number): string {
  if (!node) return "";
  if (depth > 40) return "…";
  const d = depth + 1;
  switch (node.type) {
    case "Identifier":
      return stringField(node, "value") ?? "?";
    case "StringLiteral":
      return quote(stringField(node, "value") ?? "");
    case "IntegerLiteral":
    case "FloatLiteral":
      return String(numberField(node, "value") ?? "?");
    case "ArrayLiteral":
      return `[${childList(node, "value")
        .map((n) => show(n, d))
        .join(", ")}]`;
    case "TupleLiteral":
      return `(${childList(node, "value")
        .map((n) => show(n, d))
        .join(", ")})`;
    case "ObjectLiteral":
      return `{${mapEntries(node, "value")
        .map(([k, v]) => `${show(k, d)}: ${show(v, d)}`)
        .join(", ")}}`;
    case "MemberExpression": {
      const object = show(child(node, "object"), d);
      const property = child(node, "property");
      return node.computed === true
        ? `${object}[${show(property, d)}]`
        : `${object}.${show(property, d)}`;
    }
    case "SliceExpression": {
      const part = (f: string) => show(child(node, f), d);
      const step = child(node, "step");
      return `${part("start")}:${part("stop")}${step ? `:${show(step, d)}` : ""}`;
    }
    case "CallExpression":
      return `${show(child(node, "callee"), d)}(${childList(node, "args")
        .map((n) => show(n, d))
        .join(", ")})`;
    case "FilterExpression":
      return `${show(child(node, "operand"), d)}|${show(child(node, "filter"), d)}`;
    case "KeywordArgumentExpression":
      return `${show(child(node, "key"), d)}=${show(child(node, "value"), d)}`;
    case "SpreadExpression":
      return `*${show(child(node, "argument"), d)}`;
    case "KeywordSpreadExpression":
      return `**${show(child(node, "argument"), d)}`;
    case "BinaryExpression":
      return `(${show(child(node, "left"), d)} ${operatorOf(node)} ${show(child(node, "right"), d)})`;
    case "UnaryExpression": {
      const op = operatorOf(node);
      return `${op}${op === "not" ? " " : ""}${show(child(node, "argument"), d)}`;
    }
    case "TestExpression":
      return `${show(child(node, "operand"), d)} is ${node.negate === true ? "not " : ""}${show(child(node, "test"), d)}`;
    case "Ternary":
      return `(${show(child(node, "trueExpr"), d)} if ${show(child(node, "condition"), d)} else ${show(child(node, "falseExpr"), d)})`;
    case "SelectExpression":
      return `${show(child(node, "lhs"), d)} if ${show(child(node, "test"), d)}`;
    default:
      return `‹${node.type}›`;
  }
}
