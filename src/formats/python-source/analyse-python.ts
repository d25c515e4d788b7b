import type { SyntaxNode } from "@lezer/common";
import { parser } from "@lezer/python";
import type { LocalFinding, Severity } from "../../core/finding.js";
import {
  bytesToText,
  decodeBase64,
  decodeHex,
  decodeRot13,
  looksEncoded,
  MAX_DECODED_PAYLOAD,
} from "./decode-payload.js";
import {
  type CallCategory,
  DECODERS,
  FILE_OPENERS,
  FILE_REMOVERS,
  lookupCall,
  SENSITIVE_MODULES,
} from "./python-calls.js";
import { type CallArguments, callArguments, PythonNames } from "./python-names.js";
import { PYTHON_RULES, type PythonRuleKey } from "./rules.js";

export interface PythonSourceOptions {
  /** Longest pseudocode kept per finding. @default 800 */
  maxPseudocodeLength?: number;
  /** How deep code decoded from literals and run by exec/eval is analysed in turn. @default 3 */
  maxPayloadDepth?: number;
}

export interface PythonSourceReport {
  findings: LocalFinding[];
  /** Error nodes in the syntax tree (0 for a file Python would import). */
  syntaxErrors: number;
  /** Payloads decoded from literals (base64, hex, rot13, plain strings) and analysed. */
  payloads: number;
}

/** When a call runs: on import (top level, class body), when a function is called, or as `__main__`. */
type RunContext = "import" | "function" | "main";

/** Most syntax nodes searched under one exec/eval argument for signs of obfuscation. */
const MAX_SIGN_NODES = 100_000;
/** Most syntax nodes searched for signs of obfuscation in one file (nested exec calls). */
const MAX_SIGN_NODES_PER_FILE = 500_000;
/** `chr()` calls in one statement from which the string it builds counts as hidden. */
const CHR_OBFUSCATION_THRESHOLD = 4;
/** Deepest decoder chain followed inside one exec/eval argument (`b64decode(b64decode(…))`). */
const MAX_DECODE_CHAIN = 16;

const SEVERITY: Readonly<Record<CallCategory, Record<"import" | "other", Severity>>> = {
  process: { import: "critical", other: "high" },
  "dynamic-code": { import: "critical", other: "high" },
  network: { import: "high", other: "medium" },
  "file-write": { import: "critical", other: "high" },
  "unsafe-load": { import: "medium", other: "medium" },
};

const RULE_OF: Readonly<Record<CallCategory, PythonRuleKey>> = {
  process: "process",
  "dynamic-code": "dynamicCode",
  network: "network",
  "file-write": "fileWrite",
  "unsafe-load": "unsafeLoad",
};

const WHEN: Readonly<Record<RunContext, string>> = {
  import: "when the module is imported (trust_remote_code, a TorchServe handler, any `import`)",
  function: "when this function is called",
  main: "when the file is run as a script",
};

const SINKS: ReadonlySet<string> = new Set([
  "builtins.exec",
  "builtins.eval",
  "builtins.compile",
  "builtins.execfile",
]);
const BASE64_DECODERS: ReadonlySet<string> = new Set([
  "base64.b64decode",
  "base64.standard_b64decode",
  "base64.decodebytes",
  "base64.decodestring",
  "binascii.a2b_base64",
]);
const HEX_DECODERS: ReadonlySet<string> = new Set([
  "base64.b16decode",
  "binascii.unhexlify",
  "binascii.a2b_hex",
  "bytes.fromhex",
]);
const SAFE_YAML_LOADERS = /(^|\.)(C?SafeLoader|C?BaseLoader)$/;
const PATH_CONSTRUCTORS: ReadonlySet<string> = new Set([
  "pathlib.Path",
  "pathlib.PosixPath",
  "pathlib.WindowsPath",
  "pathlib.PurePath",
]);
const PATH_WRITERS: ReadonlySet<string> = new Set([
  "write_text",
  "write_bytes",
  "unlink",
  "rmdir",
  "touch",
  "open",
]);
const MAIN_GUARD = /^__name__\s*==\s*(['"])__main__\1$|^(['"])__main__\2\s*==\s*__name__$/;
const DANGEROUS_CATEGORIES: ReadonlySet<string> = new Set([
  "process",
  "dynamic-code",
  "network",
  "file-write",
]);

/** A finding while the file is analysed; positions are character indexes into the text. */
interface RawFinding {
  rule: PythonRuleKey;
  severity: Severity;
  message: string;
  from: number;
  to: number;
  category?: CallCategory;
  context?: RunContext;
  global?: string;
  pseudocode?: string;
}

/** A path that leaves the repository: absolute (`/…`, `~…`, `C:\…`, `\\server`) or with `..`. */
export function isOutsidePath(path: string): boolean {
  return /^(\/|~|[A-Za-z]:[\\/]|\\\\)/.test(path) || /(^|[\\/])\.\.([\\/]|$)/.test(path.trim());
}

/**
 * Parses Python source into a syntax tree with @lezer/python (an error-tolerant LR parser: a file
 * that does not parse still yields a tree, with error nodes) and reports, with line numbers, the
 * calls that run programs, run or build code, open network connections, write outside the
 * repository, hide code, or unpickle data. Import aliases are resolved (`import subprocess as sp`;
 * `from os import system as s`; `run = subprocess.run`; `getattr(os, "system")`;
 * `__import__("os")`), and code that exec/eval runs from a string literal, or from base64, hex or
 * rot13 data decoded here, is analysed in turn. Nothing is run.
 */
export function analysePythonSource(
  text: string,
  options: PythonSourceOptions = {},
): PythonSourceReport {
  const scan = new PythonScan(text, options, 0);
  const raw = scan.run();
  const positions = new BytePositions(text);
  const findings = raw.map((f): LocalFinding => {
    const line = positions.line(f.from);
    const rule = PYTHON_RULES[f.rule];
    const evidence: LocalFinding["evidence"] = {};
    if (f.global !== undefined) evidence.global = f.global;
    if (f.pseudocode !== undefined) evidence.pseudocode = f.pseudocode;
    return {
      rule: rule.id,
      severity: f.severity,
      message: `Line ${line}: ${f.message}`,
      offset: positions.byteOffset(f.from),
      ...(Object.keys(evidence).length > 0 ? { evidence } : {}),
    };
  });
  return { findings, syntaxErrors: scan.syntaxErrors, payloads: scan.payloads };
}

class PythonScan {
  readonly names: PythonNames;
  private readonly tree;
  private readonly found: RawFinding[] = [];
  private readonly seen = new Set<string>();
  private readonly chrCounts = new Map<number, { from: number; to: number; count: number }>();
  private readonly scopes: { from: number; to: number; name: string; context: RunContext }[] = [];
  private readonly statements: { from: number; to: number; name: string }[] = [];
  /** Syntax nodes still to be searched for signs of obfuscation, across the whole file. */
  private signBudget = MAX_SIGN_NODES_PER_FILE;
  private readonly maxPseudocode: number;
  private readonly maxPayloadDepth: number;
  syntaxErrors = 0;
  payloads = 0;
  private firstError = -1;

  constructor(
    private readonly text: string,
    private readonly options: PythonSourceOptions,
    private readonly depth: number,
  ) {
    this.tree = parser.parse(text);
    this.names = new PythonNames(text, this.tree);
    this.maxPseudocode = options.maxPseudocodeLength ?? 800;
    this.maxPayloadDepth = options.maxPayloadDepth ?? 3;
  }

  run(): RawFinding[] {
    // Names of the nodes entered and not yet left, and the scopes and statements among them, so
    // that "when does this run" and "which statement is this" cost nothing per node.
    const path: string[] = [];
    this.tree.iterate({
      enter: (ref) => {
        if (ref.name === "ImportStatement") return false;
        const parent = path.at(-1);
        path.push(ref.name);
        if (parent === "Script" || parent === "Body") {
          this.statements.push({ from: ref.from, to: ref.to, name: ref.name });
        }
        if (ref.name === "Body" || ref.name === "LambdaExpression") {
          const context = bodyContext(ref.node, (n) => this.textOf(n));
          if (context) this.scopes.push({ from: ref.from, to: ref.to, name: ref.name, context });
        }
        if (ref.type.isError) {
          this.syntaxErrors++;
          if (this.firstError < 0) this.firstError = ref.from;
          return;
        }
        switch (ref.name) {
          case "CallExpression": {
            const node = ref.node;
            this.checkCall(node);
            this.checkReference(node);
            return;
          }
          case "VariableName":
          case "MemberExpression":
            this.checkReference(ref.node);
            return;
          default:
            return;
        }
      },
      leave: (ref) => {
        path.pop();
        for (const stack of [this.scopes, this.statements] as const) {
          const top = stack.at(-1);
          if (top && top.from === ref.from && top.to === ref.to && top.name === ref.name)
            stack.pop();
        }
      },
    });
    for (const { from, to, count } of this.chrCounts.values()) {
      if (count < CHR_OBFUSCATION_THRESHOLD) continue;
      this.add({
        rule: "obfuscation",
        severity: "high",
        message: `builds a string from ${count} chr() calls, a way to hide names and code from readers and scanners`,
        from,
        to,
        global: "builtins.chr",
        pseudocode: this.pseudo(from, to),
      });
    }
    if (this.firstError >= 0 && this.depth === 0) {
      this.found.push({
        rule: "syntaxError",
        severity: PYTHON_RULES.syntaxError.severity,
        message: `Python cannot parse this file here (${this.syntaxErrors} syntax error${this.syntaxErrors === 1 ? "" : "s"} in all): importing it would fail. The parts that could be read were analysed.`,
        from: this.firstError,
        to: this.firstError,
      });
    }
    return this.dropCoveredObfuscation().sort((a, b) => a.from - b.from);
  }

  private textOf(node: SyntaxNode): string {
    return this.text.slice(node.from, node.to);
  }

  private pseudo(from: number, to: number): string {
    const code = this.text.slice(from, Math.min(to, from + this.maxPseudocode * 4));
    const flat = code.replace(/\s*\n\s*/g, " ").trim();
    return flat.length > this.maxPseudocode ? `${flat.slice(0, this.maxPseudocode - 1)}…` : flat;
  }

  private add(f: RawFinding): void {
    const key = `${f.rule}:${f.from}:${f.global ?? ""}:${f.message}`;
    if (this.seen.has(key)) return;
    this.seen.add(key);
    this.found.push(f);
  }

  private report(
    node: SyntaxNode,
    category: CallCategory,
    global: string,
    does: string,
    context: RunContext,
  ): void {
    this.add({
      rule: RULE_OF[category],
      severity: SEVERITY[category][context === "import" ? "import" : "other"],
      message: `\`${global}\` ${does} ${WHEN[context]}.`,
      from: node.from,
      to: node.to,
      category,
      context,
      global,
      pseudocode: this.pseudo(node.from, node.to),
    });
  }

  private checkReference(node: SyntaxNode): void {
    const parent = node.parent;
    if (parent?.name === "Decorator") return;
    if (parent && isFirstChild(parent, node)) {
      if (parent.name === "MemberExpression" || parent.name === "CallExpression") return;
    }
    if (node.nextSibling?.name === "AssignOp" || node.nextSibling?.name === "TypeDef") return;
    if (node.name === "CallExpression") {
      const callee = node.firstChild;
      const q = callee ? this.names.resolve(callee) : null;
      if (
        q !== "builtins.getattr" &&
        q !== "builtins.__import__" &&
        q !== "importlib.import_module"
      ) {
        return;
      }
    }
    const q = this.names.resolve(node);
    if (q === null) return;
    if (q === "builtins.chr") {
      this.countChr(node);
      return;
    }
    const entry = lookupCall(q);
    if (!entry || entry.category === "unsafe-load" || entry.category === "file-write") return;
    this.add({
      rule: RULE_OF[entry.category],
      severity: SEVERITY[entry.category].other,
      message: `refers to \`${q}\` (${entry.does}) without calling it here: it is passed on or stored to be called later.`,
      from: node.from,
      to: node.to,
      category: entry.category,
      context: "function",
      global: q,
      pseudocode: this.pseudo(node.from, node.to),
    });
  }

  /** When the node being visited runs. */
  private context(): RunContext {
    return this.scopes.at(-1)?.context ?? "import";
  }

  private countChr(node: SyntaxNode): void {
    const statement = this.statements.at(-1) ?? node;
    const entry = this.chrCounts.get(statement.from) ?? {
      from: statement.from,
      to: statement.to,
      count: 0,
    };
    entry.count++;
    this.chrCounts.set(statement.from, entry);
  }

  private checkCall(node: SyntaxNode): void {
    const callee = node.firstChild;
    if (!callee) return;
    const args = callArguments(node.lastChild, (n) => this.textOf(n));
    this.checkPathWrite(node, callee);
    const q = this.names.resolve(callee);
    if (q === null) return;
    if (q === "builtins.chr") {
      this.countChr(node);
      return;
    }
    if (isComputedLookup(callee) && (SINKS.has(q) || lookupCall(q) !== undefined)) {
      this.add({
        rule: "obfuscation",
        severity: "high",
        message: `reaches \`${q}\` through \`getattr\`, \`__import__\` or a subscript instead of naming it, a way to hide the call from readers and scanners.`,
        from: node.from,
        to: node.to,
        global: q,
        pseudocode: this.pseudo(node.from, node.to),
      });
    }
    if (SINKS.has(q)) {
      this.checkSink(node, q, args);
      return;
    }
    const context = this.context();
    const first = args.positional[0];
    switch (q) {
      case "builtins.__import__":
      case "importlib.__import__": {
        const module = first ? this.names.literal(first) : null;
        this.report(
          node,
          "dynamic-code",
          q,
          module === null
            ? "imports a module whose name is computed at run time"
            : `imports \`${module.value}\` by a call instead of an import statement (a common way to hide an import)`,
          context,
        );
        return;
      }
      case "importlib.import_module":
        if (!first || this.names.literal(first) === null) {
          this.report(
            node,
            "dynamic-code",
            q,
            "imports a module whose name is computed at run time",
            context,
          );
        }
        return;
      case "builtins.getattr":
        this.checkGetattr(node, args);
        return;
      case "codecs.decode":
      case "codecs.encode": {
        const encoding = args.positional[1] ?? args.keywords.get("encoding");
        const name = encoding ? this.names.literal(encoding) : null;
        if (name && /^rot[-_]?13$/i.test(name.value)) {
          this.add({
            rule: "obfuscation",
            severity: "high",
            message: `\`${q}(…, "${name.value}")\` unscrambles rot13 text, a way to hide names and code from readers and scanners.`,
            from: node.from,
            to: node.to,
            global: q,
            pseudocode: this.pseudo(node.from, node.to),
          });
        }
        return;
      }
      case "torch.load":
      case "torch.serialization.load": {
        const weightsOnly = args.keywords.get("weights_only");
        if (weightsOnly && this.textOf(weightsOnly) === "True") return;
        this.report(
          node,
          "unsafe-load",
          q,
          "unpickles the file without `weights_only=True` (the default before PyTorch 2.6), which can run code from the checkpoint",
          context,
        );
        return;
      }
      case "numpy.load": {
        const allow = args.keywords.get("allow_pickle");
        if (allow && this.textOf(allow) === "True") {
          this.report(
            node,
            "unsafe-load",
            q,
            "with `allow_pickle=True` unpickles object arrays, which can run code",
            context,
          );
        }
        return;
      }
      case "yaml.load":
      case "yaml.load_all": {
        const loader = args.keywords.get("Loader") ?? args.positional[1];
        const loaderName = loader ? this.names.resolve(loader) : null;
        if (loaderName !== null && SAFE_YAML_LOADERS.test(loaderName)) return;
        this.report(
          node,
          "unsafe-load",
          q,
          `with ${loaderName === null ? "no safe Loader" : `\`${loaderName}\``} can construct arbitrary Python objects`,
          context,
        );
        return;
      }
      default:
        break;
    }
    if (FILE_OPENERS.has(q)) {
      const path = first ?? args.keywords.get("file");
      const mode = args.positional[1] ?? args.keywords.get("mode");
      const pathValue = path ? this.names.literal(path) : null;
      const modeValue = mode ? this.names.literal(mode) : null;
      if (
        pathValue &&
        modeValue &&
        /[wax+]/.test(modeValue.value) &&
        isOutsidePath(pathValue.value)
      ) {
        this.report(
          node,
          "file-write",
          q,
          `opens \`${pathValue.value}\`, outside the repository, for writing`,
          context,
        );
      }
      return;
    }
    if (FILE_REMOVERS.has(q)) {
      const pathValue = first ? this.names.literal(first) : null;
      if (pathValue && isOutsidePath(pathValue.value)) {
        this.report(
          node,
          "file-write",
          q,
          `deletes \`${pathValue.value}\`, outside the repository`,
          context,
        );
      }
      return;
    }
    const entry = lookupCall(q);
    if (entry) this.report(node, entry.category, q, entry.does, context);
  }

  /** `Path("/etc/x").write_text(…)` and kin. */
  private checkPathWrite(node: SyntaxNode, callee: SyntaxNode): void {
    if (callee.name !== "MemberExpression") return;
    const method = callee.lastChild;
    if (method?.name !== "PropertyName" || !PATH_WRITERS.has(this.textOf(method))) return;
    const object = callee.firstChild;
    if (object?.name !== "CallExpression" || !object.firstChild) return;
    const ctor = this.names.resolve(object.firstChild);
    if (ctor === null || !PATH_CONSTRUCTORS.has(ctor)) return;
    const pathArgs = callArguments(object.lastChild, (n) => this.textOf(n));
    const first = pathArgs.positional[0];
    const path = first ? this.names.literal(first) : null;
    if (!path || !isOutsidePath(path.value)) return;
    const context = this.context();
    this.report(
      node,
      "file-write",
      `${ctor}.${this.textOf(method)}`,
      `touches \`${path.value}\`, outside the repository`,
      context,
    );
  }

  private checkGetattr(node: SyntaxNode, args: CallArguments): void {
    const target = args.positional[0];
    const attr = args.positional[1];
    if (!target || !attr || this.names.literal(attr) !== null) return;
    const base = this.names.resolve(target);
    if (base === null || !SENSITIVE_MODULES.has(base)) return;
    this.add({
      rule: "obfuscation",
      severity: "high",
      message: `fetches an attribute of \`${base}\` by a name computed at run time, a way to reach dangerous callables without naming them.`,
      from: node.from,
      to: node.to,
      global: `${base}.*`,
      pseudocode: this.pseudo(node.from, node.to),
    });
  }

  /** exec/eval/compile: what code do they run, and is it hidden? */
  private checkSink(node: SyntaxNode, q: string, args: CallArguments): void {
    const context = this.context();
    const sink = q.slice("builtins.".length);
    const source = args.positional[0] ?? args.keywords.get("source") ?? args.keywords.get("object");
    if (!source) {
      this.report(node, "dynamic-code", q, "runs code computed at run time", context);
      return;
    }
    const literal = this.names.literal(source);
    if (literal !== null) {
      const code = literal.bytes ? bytesToText(literal.value) : literal.value;
      if (looksEncoded(code)) {
        this.addObfuscated(node, q, ["an encoded-looking literal"], null, context);
        return;
      }
      this.report(node, "dynamic-code", q, `runs the Python code in a string literal`, context);
      this.analysePayload(node, sink, code, "a string literal", false, context);
      return;
    }
    const decoded = this.decode(source, 0);
    const signs = this.obfuscationSigns(source);
    if (decoded !== null && decoded.how.length > 0) {
      const code = decoded.bytes ? bytesToText(decoded.value) : decoded.value;
      this.addObfuscated(node, q, decoded.how, code, context);
      this.analysePayload(
        node,
        sink,
        code,
        `decoded from ${decoded.how.join(" then ")}`,
        true,
        context,
      );
      return;
    }
    if (signs.length > 0) {
      this.addObfuscated(node, q, signs, null, context);
      return;
    }
    this.report(node, "dynamic-code", q, "runs code computed at run time", context);
  }

  private addObfuscated(
    node: SyntaxNode,
    q: string,
    how: readonly string[],
    decoded: string | null,
    context: RunContext,
  ): void {
    const sink = q.slice("builtins.".length);
    let pseudocode = this.pseudo(node.from, node.to);
    if (decoded !== null) {
      const preview =
        decoded.length > this.maxPseudocode ? `${decoded.slice(0, this.maxPseudocode)}…` : decoded;
      pseudocode = `${pseudocode}\n# decodes to:\n${preview}`;
    }
    this.add({
      rule: "obfuscation",
      severity: "critical",
      message: `\`${sink}\` runs code hidden with ${how.join(", ")} ${WHEN[context]}: only code meant not to be read is written this way.`,
      from: node.from,
      to: node.to,
      context,
      global: q,
      pseudocode,
    });
  }

  /** The value of an expression that decodes a literal (base64, hex, rot13, `.decode()`), with how. */
  private decode(
    node: SyntaxNode,
    depth: number,
  ): { value: string; bytes: boolean; how: string[] } | null {
    if (depth > MAX_DECODE_CHAIN) return null;
    const literal = this.names.literal(node);
    if (literal !== null) return { ...literal, how: [] };
    if (node.name !== "CallExpression" || !node.firstChild) return null;
    const callee = node.firstChild;
    const args = callArguments(node.lastChild, (n) => this.textOf(n));
    const first = args.positional[0];
    const q = this.names.resolve(callee);
    if ((q === null || !DECODERS.has(q)) && callee.name === "MemberExpression") {
      // `<bytes>.decode()`: the text of what the object decodes to.
      const method = callee.lastChild;
      if (
        method?.name === "PropertyName" &&
        this.textOf(method) === "decode" &&
        callee.firstChild
      ) {
        const inner = this.decode(callee.firstChild, depth + 1);
        if (inner === null) return null;
        return {
          value: inner.bytes ? bytesToText(inner.value) : inner.value,
          bytes: false,
          how: inner.how,
        };
      }
    }
    if (q === null || !first) return null;
    const inner = this.decode(first, depth + 1);
    if (inner === null) return null;
    let value: string | null = null;
    let how = q;
    if (BASE64_DECODERS.has(q)) value = decodeBase64(inner.value);
    else if (q === "base64.urlsafe_b64decode") value = decodeBase64(inner.value, true);
    else if (HEX_DECODERS.has(q)) value = decodeHex(inner.value);
    else if (q === "codecs.decode") {
      const encoding = args.positional[1] ?? args.keywords.get("encoding");
      const name = encoding ? this.names.literal(encoding)?.value.toLowerCase() : "utf-8";
      if (name === undefined) return null;
      how = `codecs.decode(…, "${name}")`;
      if (/^rot[-_]?13$/.test(name)) value = decodeRot13(inner.value);
      else if (name === "hex" || name === "hex_codec") value = decodeHex(inner.value);
      else if (name === "base64" || name === "base64_codec") value = decodeBase64(inner.value);
      else if (/^utf[-_]?8$/.test(name))
        return { value: bytesToText(inner.value), bytes: false, how: inner.how };
    }
    if (value === null || value.length > MAX_DECODED_PAYLOAD) return null;
    return { value, bytes: true, how: [...inner.how, how] };
  }

  /** Decoders, reversals and encoded-looking literals anywhere under an exec/eval argument. */
  private obfuscationSigns(node: SyntaxNode): string[] {
    const signs = new Set<string>();
    const cursor = node.cursor();
    let visited = 0;
    const end = node.to;
    do {
      if (++visited > MAX_SIGN_NODES || --this.signBudget < 0) break;
      const current = cursor.node;
      if (current.name === "CallExpression" && current.firstChild) {
        const q = this.names.resolve(current.firstChild);
        if (q !== null && DECODERS.has(q)) signs.add(q);
      } else if (
        current.name === "VariableName" &&
        this.names.resolve(current) === "builtins.chr"
      ) {
        signs.add("builtins.chr");
      } else if (current.name === "MemberExpression") {
        const tail = this.text.slice(current.firstChild?.to ?? current.from, current.to);
        if (tail.replace(/\s+/g, "") === "[::-1]") signs.add("a reversed string");
      } else if (current.name === "String") {
        const lit = this.names.literal(current);
        if (lit && looksEncoded(lit.value)) signs.add("an encoded-looking literal");
      }
    } while (cursor.next() && cursor.from < end);
    return [...signs];
  }

  /** Analyses code that exec/eval runs, reporting what it does at the sink's position. */
  private analysePayload(
    sinkNode: SyntaxNode,
    sink: string,
    code: string,
    how: string,
    obfuscated: boolean,
    context: RunContext,
  ): void {
    if (this.depth >= this.maxPayloadDepth || code.length > MAX_DECODED_PAYLOAD) return;
    this.payloads++;
    const inner = new PythonScan(code, this.options, this.depth + 1);
    const positions = new BytePositions(code);
    for (const f of inner.run()) {
      if (f.rule === "syntaxError") continue;
      let severity = f.severity;
      if (f.category !== undefined) {
        const runs = f.context === "import" ? context : f.context;
        severity = SEVERITY[f.category][runs === "import" ? "import" : "other"];
        if (obfuscated && DANGEROUS_CATEGORIES.has(f.category)) severity = "critical";
      }
      const innerLine = positions.line(f.from);
      this.add({
        ...f,
        severity,
        message: `In the code \`${sink}\` runs here (${how}), at its line ${innerLine}: ${f.message}`,
        from: sinkNode.from,
        to: sinkNode.to,
      });
    }
    this.payloads += inner.payloads;
  }

  /** A high obfuscation finding inside the span of a critical one says nothing new. */
  private dropCoveredObfuscation(): RawFinding[] {
    const critical = this.found.filter(
      (f) => f.rule === "obfuscation" && f.severity === "critical",
    );
    const weaker = this.found.filter((f) => f.rule === "obfuscation" && f.severity !== "critical");
    // Pairwise, so only while the product is small (always, but for adversarial files).
    if (critical.length === 0 || critical.length * weaker.length > 1_000_000) return this.found;
    return this.found.filter(
      (f) =>
        !(
          f.rule === "obfuscation" &&
          f.severity !== "critical" &&
          critical.some((c) => c.from <= f.from && f.to <= c.to)
        ),
    );
  }
}

/** A callee reached by a call (`getattr(…)`, `__import__(…).x`) or a subscript, not by plain names. */
function isComputedLookup(callee: SyntaxNode): boolean {
  for (let n: SyntaxNode | null = callee; n; n = n.firstChild) {
    if (n.name === "CallExpression") return true;
    if (n.name === "MemberExpression" && n.lastChild?.name !== "PropertyName") return true;
    if (n.name !== "MemberExpression" && n.name !== "ParenthesizedExpression") return false;
  }
  return false;
}

function isFirstChild(parent: SyntaxNode, node: SyntaxNode): boolean {
  const first = parent.firstChild;
  return (
    first !== null && first.from === node.from && first.to === node.to && first.name === node.name
  );
}

/**
 * The run context a block opens: a function or lambda body runs when called, the first body of
 * `if __name__ == "__main__":` when run as a script; other blocks (class bodies, `if`, `try`…)
 * run with their surroundings (`null`).
 */
function bodyContext(node: SyntaxNode, textOf: (n: SyntaxNode) => string): RunContext | null {
  if (node.name === "LambdaExpression") return "function";
  const owner = node.parent;
  if (owner?.name === "FunctionDefinition") return "function";
  if (owner?.name === "IfStatement") {
    const test = owner.firstChild?.nextSibling;
    const firstBody = owner.getChild("Body");
    if (
      test &&
      firstBody &&
      firstBody.from === node.from &&
      MAIN_GUARD.test(textOf(test).replace(/\s+/g, " ").trim())
    ) {
      return "main";
    }
  }
  return null;
}

/** Line numbers and UTF-8 byte offsets for character indexes of a text. */
class BytePositions {
  private readonly lineStarts: number[] = [0];
  private readonly lineBytes: number[] = [0];

  constructor(private readonly text: string) {
    let bytes = 0;
    let lineStart = 0;
    for (let i = 0; i < text.length; i++) {
      if (text.charCodeAt(i) === 0x0a) {
        bytes += utf8Length(text, lineStart, i + 1);
        lineStart = i + 1;
        this.lineStarts.push(lineStart);
        this.lineBytes.push(bytes);
      }
    }
  }

  /** 1-based line of a character index. */
  line(index: number): number {
    return this.lineIndex(index) + 1;
  }

  byteOffset(index: number): number {
    const line = this.lineIndex(index);
    return this.lineBytes[line]! + utf8Length(this.text, this.lineStarts[line]!, index);
  }

  private lineIndex(index: number): number {
    let lo = 0;
    let hi = this.lineStarts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (this.lineStarts[mid]! <= index) lo = mid;
      else hi = mid - 1;
    }
    return lo;
  }
}

function utf8Length(text: string, from: number, to: number): number {
  let n = 0;
  for (let i = from; i < to; i++) {
    const c = text.charCodeAt(i);
    if (c < 0x80) n += 1;
    else if (c < 0x800) n += 2;
    else if (c >= 0xd800 && c <= 0xdbff && i + 1 < to) {
      n += 4;
      i++;
    } else n += 3;
  }
  return n;
}
