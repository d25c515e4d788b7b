import type { SyntaxNode, Tree } from "@lezer/common";
import { BUILTIN_NAMES, lookupCall, MODULE_SYNONYMS } from "./python-calls.js";
import { decodePythonLiteral } from "./python-literal.js";

/** Deepest expression the resolver follows (`a.b.c…`, nested calls); deeper is unresolved. */
const MAX_RESOLVE_DEPTH = 64;
/** Most pieces folded when a string is concatenated from literals (`"ex" + "ec"`). */
const MAX_CONCAT_PARTS = 10_000;

export function childrenOf(node: SyntaxNode): SyntaxNode[] {
  const out: SyntaxNode[] = [];
  for (let c = node.firstChild; c; c = c.nextSibling) out.push(c);
  return out;
}

/** `posix.system` → `os.system`: the first segment mapped through {@link MODULE_SYNONYMS}. */
export function normaliseName(name: string): string {
  const dot = name.indexOf(".");
  const head = dot < 0 ? name : name.slice(0, dot);
  const mapped = MODULE_SYNONYMS[head];
  return mapped === undefined ? name : mapped + (dot < 0 ? "" : name.slice(dot));
}

/** The arguments of a call, split the way Python binds them. */
export interface CallArguments {
  positional: SyntaxNode[];
  keywords: Map<string, SyntaxNode>;
  /** `*args`/`**kwargs` or a generator argument: what is bound is not known statically. */
  dynamic: boolean;
}

export function callArguments(
  argList: SyntaxNode | null,
  textOf: (node: SyntaxNode) => string,
): CallArguments {
  const args: CallArguments = { positional: [], keywords: new Map(), dynamic: false };
  if (argList?.name !== "ArgList") return args;
  const parts = childrenOf(argList);
  for (let i = 0; i < parts.length; i++) {
    const part = parts[i]!;
    const name = part.name;
    if (name === "(" || name === ")" || name === ",") continue;
    if (name === "*" || name === "**") {
      args.dynamic = true;
      i++;
      continue;
    }
    if (name === "for" || name === "async") {
      // A generator argument: the rest is its comprehension clauses.
      args.dynamic = true;
      break;
    }
    if (name === "VariableName" && parts[i + 1]?.name === "AssignOp") {
      const value = parts[i + 2];
      if (value) args.keywords.set(textOf(part), value);
      i += 2;
      continue;
    }
    args.positional.push(part);
  }
  return args;
}

/**
 * Names bound in one Python module, collected flow-insensitively from a syntax tree: import
 * aliases (`import subprocess as sp`, `from os import system as s`), simple assignments of
 * resolvable names (`run = subprocess.run`), star imports, and names bound locally (assignments,
 * parameters, loop targets, `def`/`class` names) which shadow builtins and module names.
 */
export class PythonNames {
  readonly aliases = new Map<string, string>();
  readonly starModules: string[] = [];
  readonly local = new Set<string>();

  constructor(
    private readonly text: string,
    tree: Tree,
  ) {
    tree.iterate({
      enter: (ref) => {
        switch (ref.name) {
          case "ImportStatement":
            this.collectImport(ref.node);
            return false;
          case "AssignStatement":
            this.collectAssignment(ref.node);
            return;
          case "FunctionDefinition":
          case "ClassDefinition":
          case "ParamList":
          case "ForStatement":
          case "WithStatement":
          case "TryStatement":
          case "NamedExpression":
          case "ArrayComprehensionExpression":
          case "ComprehensionExpression":
          case "SetComprehensionExpression":
          case "DictionaryComprehensionExpression":
          case "ArgList":
            this.collectBindings(ref.node);
            return;
          default:
            return;
        }
      },
    });
  }

  textOf(node: SyntaxNode): string {
    return this.text.slice(node.from, node.to);
  }

  private collectImport(node: SyntaxNode): void {
    const parts = childrenOf(node);
    let i = 0;
    let from: string | null = null;
    if (parts[0]?.name === "from") {
      i = 1;
      let dots = "";
      while (parts[i]?.name === "." || parts[i]?.name === "Ellipsis") {
        dots += this.textOf(parts[i]!);
        i++;
      }
      const dotted: string[] = [];
      while (i < parts.length && parts[i]!.name !== "import") {
        if (parts[i]!.name === "VariableName") dotted.push(this.textOf(parts[i]!));
        i++;
      }
      from = dots + dotted.join(".");
    }
    i++; // `import`
    while (i < parts.length) {
      const part = parts[i]!;
      if (part.name === "*" && from !== null) {
        this.starModules.push(normaliseName(from));
        i++;
        continue;
      }
      if (part.name !== "VariableName") {
        i++;
        continue;
      }
      const dotted = [this.textOf(part)];
      i++;
      while (parts[i]?.name === "." && parts[i + 1]?.name === "VariableName") {
        dotted.push(this.textOf(parts[i + 1]!));
        i += 2;
      }
      let as: string | null = null;
      if (parts[i]?.name === "as" && parts[i + 1]?.name === "VariableName") {
        as = this.textOf(parts[i + 1]!);
        i += 2;
      }
      const path = dotted.join(".");
      if (from !== null) {
        const full = from.endsWith(".") ? from + path : `${from}.${path}`;
        this.aliases.set(as ?? path, normaliseName(full));
      } else if (as !== null) {
        this.aliases.set(as, normaliseName(path));
      } else {
        this.aliases.set(dotted[0]!, normaliseName(dotted[0]!));
      }
    }
  }

  private collectAssignment(node: SyntaxNode): void {
    const parts = childrenOf(node);
    let lastAssign = -1;
    for (let i = 0; i < parts.length; i++) if (parts[i]!.name === "AssignOp") lastAssign = i;
    if (lastAssign < 0) return;
    const value = parts[lastAssign + 1];
    const targets = parts.slice(0, lastAssign).filter((p) => p.name !== "AssignOp");
    const resolved = value && targets.length === 1 ? this.resolve(value) : null;
    for (const target of targets) {
      if (target.name === "VariableName") {
        const name = this.textOf(target);
        if (resolved !== null && targets.length === 1 && lookupLike(resolved)) {
          this.aliases.set(name, resolved);
        } else {
          this.local.add(name);
        }
      } else if (target.name === "TupleExpression" || target.name === "ArrayExpression") {
        for (const c of childrenOf(target)) {
          if (c.name === "VariableName") this.local.add(this.textOf(c));
        }
      }
    }
  }

  /** Binding positions: `def`/`class` names, parameters, `for` targets, `as` names, walrus. */
  private collectBindings(node: SyntaxNode): void {
    const parts = childrenOf(node);
    switch (node.name) {
      case "FunctionDefinition":
      case "ClassDefinition": {
        const name = parts.find((p) => p.name === "VariableName");
        if (name) this.local.add(this.textOf(name));
        return;
      }
      case "ParamList":
        for (const p of parts) if (p.name === "VariableName") this.local.add(this.textOf(p));
        return;
      case "NamedExpression":
        if (parts[0]?.name === "VariableName") this.local.add(this.textOf(parts[0]));
        return;
      default: {
        // `for <targets> in`, `as <name>` (with, except).
        let inTargets = false;
        for (let i = 0; i < parts.length; i++) {
          const p = parts[i]!;
          if (p.name === "for") inTargets = true;
          else if (p.name === "in") inTargets = false;
          else if (p.name === "as" && parts[i + 1]?.name === "VariableName") {
            this.local.add(this.textOf(parts[i + 1]!));
          } else if (inTargets) {
            if (p.name === "VariableName") this.local.add(this.textOf(p));
            else if (p.name === "TupleExpression" || p.name === "ArrayExpression") {
              for (const c of childrenOf(p)) {
                if (c.name === "VariableName") this.local.add(this.textOf(c));
              }
            }
          }
        }
      }
    }
  }

  /**
   * The fully qualified name an expression stands for, or `null`: `sp.run` → `subprocess.run`,
   * `getattr(os, "system")` → `os.system`, `__import__("os").popen` → `os.popen`,
   * `__builtins__["exec"]` → `builtins.exec`. A bare name bound nowhere in the file is taken as a
   * module or builtin name; a name bound locally (a variable, parameter, …) resolves to `null`.
   */
  resolve(node: SyntaxNode, depth = 0): string | null {
    if (depth > MAX_RESOLVE_DEPTH) return null;
    switch (node.name) {
      case "VariableName":
        return this.resolveName(this.textOf(node));
      case "ParenthesizedExpression": {
        const inner = node.firstChild?.nextSibling;
        return inner ? this.resolve(inner, depth + 1) : null;
      }
      case "MemberExpression": {
        const object = node.firstChild;
        if (!object) return null;
        const last = node.lastChild;
        if (last?.name === "PropertyName") {
          const base = this.resolve(object, depth + 1);
          return base === null ? null : normaliseName(`${base}.${this.textOf(last)}`);
        }
        // subscript: `x["name"]`
        const inside = childrenOf(node)
          .slice(1)
          .filter((c) => c.name !== "[" && c.name !== "]");
        const key = inside.length === 1 ? this.literal(inside[0]!) : null;
        if (key === null) return null;
        const base = this.resolve(object, depth + 1);
        if (base === null) return null;
        return subscriptName(base, key.value, (n) => this.resolveName(n));
      }
      case "CallExpression": {
        const callee = node.firstChild;
        if (!callee) return null;
        const q = this.resolve(callee, depth + 1);
        if (q === null) return null;
        const args = callArguments(node.lastChild, (n) => this.textOf(n));
        const first = args.positional[0];
        switch (q) {
          case "builtins.__import__":
          case "importlib.import_module":
          case "importlib.__import__": {
            const module = first ? this.literal(first) : null;
            if (module === null) return null;
            // `__import__("os.path")` returns the top package, `import_module` the module itself.
            const name =
              q === "importlib.import_module" ? module.value : module.value.split(".")[0]!;
            return normaliseName(name);
          }
          case "builtins.getattr": {
            const attr = args.positional[1] ? this.literal(args.positional[1]) : null;
            const base = first ? this.resolve(first, depth + 1) : null;
            return attr === null || base === null ? null : normaliseName(`${base}.${attr.value}`);
          }
          case "builtins.globals":
          case "builtins.locals":
            return args.positional.length === 0 ? `${q}()` : null;
          case "builtins.vars": {
            if (!first) return `${q}()`;
            const base = this.resolve(first, depth + 1);
            return base === null ? null : `${base}.__dict__`;
          }
          default:
            return null;
        }
      }
      default:
        return null;
    }
  }

  resolveName(name: string): string | null {
    const alias = this.aliases.get(name);
    if (alias !== undefined) return alias;
    if (this.local.has(name)) return null;
    if (BUILTIN_NAMES.has(name)) return name === "__builtins__" ? "builtins" : `builtins.${name}`;
    for (const module of this.starModules) {
      if (lookupCall(`${module}.${name}`)) return `${module}.${name}`;
    }
    return normaliseName(name);
  }

  /**
   * The value of a string expression built only from literals: a literal, implicit concatenation
   * (`"a" "b"`), `+` of literals, parentheses, and reversal (`"…"[::-1]`). `null` otherwise.
   */
  literal(node: SyntaxNode, depth = 0): { value: string; bytes: boolean } | null {
    if (depth > MAX_RESOLVE_DEPTH) return null;
    switch (node.name) {
      case "String":
        return decodePythonLiteral(this.textOf(node));
      case "ContinuedString": {
        let value = "";
        let bytes = false;
        for (const part of childrenOf(node)) {
          const lit = this.literal(part, depth + 1);
          if (lit === null) return null;
          value += lit.value;
          bytes = lit.bytes;
        }
        return { value, bytes };
      }
      case "ParenthesizedExpression": {
        const inner = node.firstChild?.nextSibling;
        return inner ? this.literal(inner, depth + 1) : null;
      }
      case "BinaryExpression": {
        // Walk the left spine of `a + b + c + …` without recursion.
        const rights: SyntaxNode[] = [];
        let left: SyntaxNode | null = node;
        while (left?.name === "BinaryExpression" && rights.length < MAX_CONCAT_PARTS) {
          const op = left.firstChild?.nextSibling;
          if (op?.name !== "ArithOp" || this.textOf(op) !== "+") return null;
          const right = left.lastChild;
          if (!right) return null;
          rights.push(right);
          left = left.firstChild;
        }
        if (!left || left.name === "BinaryExpression") return null;
        const first = this.literal(left, depth + 1);
        if (first === null) return null;
        let value = first.value;
        for (let i = rights.length - 1; i >= 0; i--) {
          const lit = this.literal(rights[i]!, depth + 1);
          if (lit === null) return null;
          value += lit.value;
        }
        return { value, bytes: first.bytes };
      }
      case "MemberExpression": {
        const parts = childrenOf(node);
        const slice = parts
          .slice(1)
          .map((p) => this.textOf(p))
          .join("");
        if (slice.replace(/\s+/g, "") !== "[::-1]") return null;
        const inner = parts[0] ? this.literal(parts[0], depth + 1) : null;
        return inner === null
          ? null
          : { value: [...inner.value].reverse().join(""), bytes: inner.bytes };
      }
      default:
        return null;
    }
  }
}

/** `x["k"]` for namespaces that map names: builtins, `__dict__`, `sys.modules`, `globals()`. */
function subscriptName(
  base: string,
  key: string,
  resolveName: (name: string) => string | null,
): string | null {
  if (base === "builtins") return `builtins.${key}`;
  if (base.endsWith(".__dict__"))
    return normaliseName(`${base.slice(0, -".__dict__".length)}.${key}`);
  if (base === "sys.modules") return normaliseName(key);
  if (base === "builtins.globals()" || base === "builtins.locals()" || base === "builtins.vars()") {
    return key === "__builtins__" ? "builtins" : resolveName(key);
  }
  return null;
}

/** Names worth remembering as an alias: dotted names whose head is a module or builtin. */
function lookupLike(name: string): boolean {
  return /^[A-Za-z_][\w]*(\.[A-Za-z_][\w]*)*(\(\))?$/.test(name);
}
