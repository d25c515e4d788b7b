/**
 * The matcher: turns the policy data (allowlist, denylist, known classes, Python 2 mapping) into a
 * {@link Policy}. Pure and synchronous; no Node APIs.
 *
 * Order of the checks for one `module` + `name` (`name` may be a dotted attribute chain, which
 * protocol 4+ resolves with `getattr` one step at a time):
 * 1. denylist, on the whole dotted path and each of its parents (`os.path.join` → `os`);
 * 2. dunder attributes anywhere in `name` (`OrderedDict.__init__.__globals__`);
 * 3. attribute chains that reach a denied path or a denied callable name (`torch._utils` +
 *    `os.system`), and single names that are a dangerous module object or a re-exported
 *    code-running callable;
 * 4. malformed names (empty, whitespace, non-identifier characters) — never better than unknown;
 * 5. allowlist (exact `module` and `name`), the user's `module.*` prefixes, refused list, known
 *    classes, else unknown.
 * Deny always beats allow. Both the raw name and its Python 2 → 3 mapping are classified, and for
 * malformed names also the name with whitespace and control characters removed; the most severe
 * verdict wins.
 */

import {
  ALLOWED_GLOBALS,
  type AllowEntry,
  CARVED_OUT_OF_DENIED,
  REFUSED_GLOBALS,
} from "./allowlist.js";
import { type Importable, mapPython2Name } from "./compat.js";
import {
  CHAIN_DENIED_NAMES,
  DENYLIST,
  type DenyEntry,
  denyKey,
  MODULE_HANDLE_NAMES,
  REEXPORT_NAMES,
} from "./denylist.js";
import { KNOWN_GLOBALS, type KnownEntry } from "./known-classes.js";
import { DANGEROUS_GLOBAL_RULE, KNOWN_LIBRARY_GLOBAL_RULE, UNKNOWN_GLOBAL_RULE } from "./rules.js";
import type { GlobalClass, GlobalVerdict, Policy } from "./types.js";

export interface PolicyOptions {
  /**
   * Extra importables to allow: exactly `module.name` (split at the last dot) or `module:name`
   * (for a dotted `name`), or every global of a module and its submodules with `module.*`. They
   * never override the denylist (nor the dunder, attribute-chain and module-object checks).
   * @default []
   */
  extraAllowed?: readonly string[];
  /**
   * Extra modules or importables to deny, matched with everything under them like the built-in
   * denylist: `module`, `module.name` or `module:name`.
   * @default []
   */
  extraDenied?: readonly string[];
}

/** Longest module or name the matcher accepts as well-formed; longer ones are at least unknown. */
export const MAX_GLOBAL_NAME_LENGTH = 512;

/** Dunder attributes that may appear in a name without counting as attribute traversal. */
export const ALLOWED_DUNDERS: ReadonlySet<string> = new Set([
  "__new__",
  "__newobj__",
  "__newobj_ex__",
]);

const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]*$/;
/** A class name by convention: CapWords after optional leading underscores. */
const CLASS_NAME = /^_*[A-Z][A-Za-z0-9_]*$/;
// Whitespace, control characters (Cc) and invisible format characters (Cf: zero-width, BOM, bidi).
const INVISIBLE = /[\s\p{Cc}\p{Cf}]/gu;

/**
 * Modules the policy knows by name: the modules (and parent packages) of every allowlisted, known
 * and denied entry. A global whose full path is one of them (`torch` + `_utils`) is a *module
 * object*. Module objects cannot be pickled, so no real pickler writes such a global; a file that
 * does wants a handle on the module, e.g. to rewrite its attributes with BUILD (picklescan's
 * `sys_module_override_sploit`).
 */
export const KNOWN_MODULES: ReadonlySet<string> = (() => {
  const modules = new Set<string>();
  const addWithParents = (module: string) => {
    const parts = module.split(".");
    for (let i = 1; i <= parts.length; i++) modules.add(parts.slice(0, i).join("."));
  };
  for (const e of [...ALLOWED_GLOBALS, ...REFUSED_GLOBALS, ...KNOWN_GLOBALS]) {
    addWithParents(
      e.name.endsWith(".*") ? e.name.slice(0, -2) : e.name.slice(0, e.name.lastIndexOf(".")),
    );
  }
  for (const e of DENYLIST) addWithParents(e.module);
  return modules;
})();

const RANK: Record<GlobalClass, number> = { allowed: 0, known: 1, unknown: 2, dangerous: 3 };

/** Parses `module:name` or `module.name` (split at the last dot); null if malformed. */
export function parseImportable(text: string): Importable | null {
  const colon = text.indexOf(":");
  let module: string;
  let name: string;
  if (colon >= 0) {
    module = text.slice(0, colon);
    name = text.slice(colon + 1);
  } else {
    const dot = text.lastIndexOf(".");
    if (dot < 0) return null;
    module = text.slice(0, dot);
    name = text.slice(dot + 1);
  }
  return malformation(module, name) === null ? { module, name } : null;
}

/** Problems with policy options, one line each; empty when they are usable. */
export function validatePolicyOptions(options: PolicyOptions): string[] {
  const problems: string[] = [];
  for (const text of options.extraAllowed ?? []) {
    if (allowedPrefix(text) === null && parseImportable(text) === null) {
      problems.push(
        `extraAllowed: "${text}" is not a dotted Python name like "module.Class" or a prefix like "module.*"`,
      );
    }
  }
  for (const text of options.extraDenied ?? []) {
    if (!isDottedName(text.replace(":", "."))) {
      problems.push(
        `extraDenied: "${text}" is not a dotted Python name like "module" or "module.func"`,
      );
    }
  }
  return problems;
}

/**
 * Builds the policy in force for a scan: the built-in lists plus the user's additions.
 * @throws RangeError when `options` are malformed (a caller bug: check with
 * {@link validatePolicyOptions} first).
 */
export function createPolicy(options: PolicyOptions = {}): Policy {
  const problems = validatePolicyOptions(options);
  if (problems.length > 0) throw new RangeError(`invalid policy options: ${problems.join("; ")}`);

  const denied = new Map<string, DenyEntry>();
  for (const e of DENYLIST) denied.set(denyKey(e), e);
  for (const text of options.extraDenied ?? []) {
    const module = text.replace(":", ".");
    if (!denied.has(module)) {
      denied.set(module, {
        module,
        kind: "policy",
        reason: "Denied by your policy (extraDenied).",
      });
    }
  }

  const allowed = indexExact(ALLOWED_GLOBALS);
  const allowedPrefixes: string[] = [];
  for (const text of options.extraAllowed ?? []) {
    const prefix = allowedPrefix(text);
    if (prefix !== null) {
      allowedPrefixes.push(prefix);
      continue;
    }
    const imp = parseImportable(text);
    if (imp !== null) {
      setExact(allowed, imp.module, imp.name, {
        name: `${imp.module}.${imp.name}`,
        reason: "Allowed by your policy (extraAllowed).",
      });
    }
  }
  const refused = indexExact(REFUSED_GLOBALS);
  const knownExact = indexExact(KNOWN_GLOBALS.filter((e) => !e.name.endsWith(".*")));
  const knownPrefixes = new Map<string, KnownEntry>();
  for (const e of KNOWN_GLOBALS) {
    if (e.name.endsWith(".*")) knownPrefixes.set(e.name.slice(0, -2), e);
  }

  const findDenied = (segments: readonly string[]): DenyEntry | undefined => {
    let key = "";
    for (const segment of segments) {
      key = key === "" ? segment : `${key}.${segment}`;
      const hit = denied.get(key);
      if (hit !== undefined) return hit;
    }
    return undefined;
  };

  const findKnown = (module: string, name: string): KnownEntry | undefined => {
    const exact = knownExact.get(module)?.get(name);
    if (exact !== undefined) return exact;
    if (!name.split(".").every((s) => CLASS_NAME.test(s))) return undefined;
    let prefix = module;
    for (;;) {
      const hit = knownPrefixes.get(prefix);
      if (hit !== undefined) return hit;
      const dot = prefix.lastIndexOf(".");
      if (dot < 0) return undefined;
      prefix = prefix.slice(0, dot);
    }
  };

  const classifyOne = (module: string, name: string): GlobalVerdict => {
    const full = `${module}.${name}`;
    const moduleSegments = module.split(".");
    const chain = name.split(".");

    const carved = CARVED_OUT_OF_DENIED.find((e) => e.name === full);
    if (carved !== undefined) {
      return { class: "allowed", severity: null, rule: null, reason: carved.reason, matched: full };
    }

    const hit = findDenied([...moduleSegments, ...chain]);
    if (hit !== undefined) {
      const key = denyKey(hit);
      const where = key === full ? "" : `${show(full)} is part of \`${key}\`. `;
      return dangerous(`${where}${hit.reason}`, key, hit.references);
    }

    for (const segment of chain) {
      if (isDunder(segment) && !ALLOWED_DUNDERS.has(segment)) {
        return dangerous(
          `${show(full)} walks into the special attribute ${show(segment)}: attribute traversal ` +
            "through dunder attributes reaches interpreter internals (function globals, builtins, " +
            "the class hierarchy), the classic route out of a restricted loader.",
          segment,
        );
      }
    }

    if (chain.length >= 2) {
      for (let start = 0; start < chain.length; start++) {
        const reached = findDenied(chain.slice(start));
        if (reached !== undefined) {
          const key = denyKey(reached);
          return dangerous(
            `${show(full)} reaches \`${key}\` through an attribute chain. ${reached.reason}`,
            key,
            reached.references,
          );
        }
      }
      for (const segment of chain) {
        if (CHAIN_DENIED_NAMES.has(segment)) {
          return dangerous(
            `${show(full)} reaches \`${segment}\` through an attribute chain; that is the name of a ` +
              "code-running, process, file or network callable (a method, or a re-export of one), " +
              "reached without naming its home module.",
            segment,
          );
        }
      }
    } else if (MODULE_HANDLE_NAMES.has(name)) {
      return dangerous(
        `${show(full)} is the \`${name}\` module itself, re-exported by ${show(module)}: a pickle holding ` +
          "a module object can rewrite its globals with BUILD or reach its functions.",
        name,
      );
    } else if (REEXPORT_NAMES.has(name)) {
      return dangerous(
        `${show(full)} has the name of a code-running callable (\`${name}\`); a module that imports ` +
          "such a function re-exports it under its own name, hiding its real home.",
        name,
      );
    }

    if (KNOWN_MODULES.has(full)) {
      return dangerous(
        `${show(full)} is a module, not a class or function: module objects cannot be pickled, so ` +
          "no real pickler writes this global. Holding a module lets the file rewrite its " +
          "attributes with BUILD, e.g. so that a later global resolves to `eval`.",
        full,
      );
    }

    const problem = malformation(module, name);
    if (problem !== null) {
      return unknown(
        `${show(full)} is not a valid Python dotted name (${problem}); ` +
          "Python cannot import it as written, and such names are used to confuse scanners.",
      );
    }

    const allow = allowed.get(module)?.get(name);
    if (allow !== undefined) {
      return {
        class: "allowed",
        severity: null,
        rule: null,
        reason: allow.reason,
        matched: allow.name,
      };
    }
    const prefix = allowedPrefixes.find((p) => module === p || module.startsWith(`${p}.`));
    if (prefix !== undefined) {
      return {
        class: "allowed",
        severity: null,
        rule: null,
        reason: "Allowed by your policy (extraAllowed).",
        matched: `${prefix}.*`,
      };
    }
    const refuse = refused.get(module)?.get(name);
    if (refuse !== undefined) return unknown(refuse.reason, refuse.name);
    const knownEntry = findKnown(module, name);
    if (knownEntry !== undefined) {
      return {
        class: "known",
        severity: "low",
        rule: KNOWN_LIBRARY_GLOBAL_RULE,
        reason: knownEntry.reason,
        matched: knownEntry.name,
      };
    }
    return unknown(
      `${show(full)} is neither allowlisted nor a known library class; loading the file imports it ` +
        "and may call it with arguments the file chooses.",
    );
  };

  const cache = new Map<string, GlobalVerdict>();
  const CACHE_LIMIT = 4096;

  const classifyGlobal = (module: string, name: string): GlobalVerdict => {
    const cacheKey = `${module.length}:${module}${name}`;
    const cached = cache.get(cacheKey);
    if (cached !== undefined) return cached;

    let best = classifyOne(module, name);
    const consider = (candidate: Importable, note: string) => {
      const verdict = classifyOne(candidate.module, candidate.name);
      if (RANK[verdict.class] > RANK[best.class])
        best = { ...verdict, reason: `${note}${verdict.reason}` };
    };
    const withMapping = (imp: Importable, prefix: string) => {
      const mapped = mapPython2Name(imp.module, imp.name);
      if (mapped !== null) {
        consider(
          mapped,
          `${prefix}Python 2 name ${show(`${imp.module}.${imp.name}`)} loads as ` +
            `${show(`${mapped.module}.${mapped.name}`)} (protocol < 3): `,
        );
      }
    };
    withMapping({ module, name }, "");
    if (malformation(module, name) !== null) {
      const cleaned = { module: module.replace(INVISIBLE, ""), name: name.replace(INVISIBLE, "") };
      if (cleaned.module !== module || cleaned.name !== name) {
        const note = `With invisible characters removed, this is ${show(`${cleaned.module}.${cleaned.name}`)}: `;
        consider(cleaned, note);
        withMapping(cleaned, note);
      }
    }

    if (cache.size >= CACHE_LIMIT) cache.clear();
    cache.set(cacheKey, best);
    return best;
  };

  return { classifyGlobal };
}

function dangerous(reason: string, matched: string, references?: readonly string[]): GlobalVerdict {
  const verdict: GlobalVerdict = {
    class: "dangerous",
    severity: "critical",
    rule: DANGEROUS_GLOBAL_RULE,
    reason,
    matched,
  };
  if (references !== undefined && references.length > 0) verdict.references = [...references];
  return verdict;
}

function unknown(reason: string, matched?: string): GlobalVerdict {
  const verdict: GlobalVerdict = {
    class: "unknown",
    severity: "medium",
    rule: UNKNOWN_GLOBAL_RULE,
    reason,
  };
  if (matched !== undefined) verdict.matched = matched;
  return verdict;
}

/** Longest name quoted in a reason; the rest is elided. */
const MAX_SHOWN = 200;

/** A name as quoted in a reason: control characters escaped, long names elided. */
function show(text: string): string {
  const escaped = JSON.stringify(text).slice(1, -1);
  const clipped = escaped.length > MAX_SHOWN ? `${escaped.slice(0, MAX_SHOWN)}…` : escaped;
  return `\`${clipped}\``;
}

function isDunder(segment: string): boolean {
  return segment.length > 4 && segment.startsWith("__") && segment.endsWith("__");
}

/** The module of a `module.*` allow entry, or null when `text` is not one. */
function allowedPrefix(text: string): string | null {
  if (!text.endsWith(".*")) return null;
  const module = text.slice(0, -2);
  return isDottedName(module) ? module : null;
}

function isDottedName(text: string): boolean {
  return (
    text.length > 0 &&
    text.length <= MAX_GLOBAL_NAME_LENGTH &&
    text.split(".").every((s) => IDENTIFIER.test(s))
  );
}

/** Why `module`/`name` is not a well-formed importable, or null when it is. */
function malformation(module: string, name: string): string | null {
  for (const [label, text] of [
    ["module", module],
    ["name", name],
  ] as const) {
    if (text.length === 0) return `empty ${label}`;
    if (text.length > MAX_GLOBAL_NAME_LENGTH)
      return `${label} longer than ${MAX_GLOBAL_NAME_LENGTH} characters`;
    for (const segment of text.split(".")) {
      if (segment.length === 0) return `empty segment in ${label}`;
      if (!IDENTIFIER.test(segment)) {
        return `${label} segment ${show(segment)} is not an ASCII identifier`;
      }
    }
  }
  return null;
}

type ExactIndex<T> = Map<string, Map<string, T>>;

function setExact<T>(index: ExactIndex<T>, module: string, name: string, value: T): void {
  let names = index.get(module);
  if (names === undefined) {
    names = new Map();
    index.set(module, names);
  }
  names.set(name, value);
}

/** Indexes `module.name` entries by module and single-attribute name (split at the last dot). */
function indexExact<T extends AllowEntry | KnownEntry>(entries: readonly T[]): ExactIndex<T> {
  const index: ExactIndex<T> = new Map();
  for (const e of entries) {
    const dot = e.name.lastIndexOf(".");
    setExact(index, e.name.slice(0, dot), e.name.slice(dot + 1), e);
  }
  return index;
}
