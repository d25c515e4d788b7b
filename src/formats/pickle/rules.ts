import type { RatedRule } from "../../core/rule-info.js";

/** A rule the pickle analyser reports: stable id, default severity, one-line description. */
export type PickleRule = RatedRule;

/** Rule ids, for code that names them. */
export const PICKLE_RULE = Object.freeze({
  dangerousGlobal: "pickle.dangerous-global",
  knownGlobal: "pickle.known-library-global",
  unknownGlobal: "pickle.unknown-global",
  nonConstantGlobal: "pickle.non-constant-global",
  extensionCode: "pickle.extension-code",
  buildOnGlobal: "pickle.build-on-global",
  replacedGlobal: "pickle.replaced-global",
  methodOnGlobal: "pickle.method-on-global",
  malformed: "pickle.malformed",
  trailingData: "pickle.trailing-data",
  stacked: "pickle.stacked",
} as const);

/**
 * The engine's shared rule for a limit reached (listed with the scan rules, not here); the pickle
 * analyser reports it for `maxOpcodes`, `maxStackDepth`, `maxMemoEntries`, `maxStackedPickles`.
 */
export const LIMITS_EXCEEDED_RULE = "limits.exceeded";

/** Every `pickle.*` rule, for docs/rules.md, SARIF and policy files. */
export const PICKLE_RULES: readonly PickleRule[] = Object.freeze([
  {
    id: PICKLE_RULE.dangerousGlobal,
    severity: "critical",
    description:
      "The pickle imports a known code-execution, file, network or import callable (per the policy).",
  },
  {
    id: PICKLE_RULE.knownGlobal,
    severity: "low",
    description: "The pickle imports a curated library class that real checkpoints contain.",
  },
  {
    id: PICKLE_RULE.unknownGlobal,
    severity: "medium",
    description:
      "The pickle imports a callable that is on no allowlist; loading it runs that code.",
  },
  {
    id: PICKLE_RULE.nonConstantGlobal,
    severity: "high",
    description:
      "STACK_GLOBAL takes its module or name from a value computed at load time, hiding what is imported (critical when the part that is constant is denied anyway, e.g. the module `os`).",
  },
  {
    id: PICKLE_RULE.extensionCode,
    severity: "high",
    description:
      "EXT1/EXT2/EXT4 load whatever callable the copyreg extension registry maps the code to at load time.",
  },
  {
    id: PICKLE_RULE.buildOnGlobal,
    severity: "high",
    description:
      "BUILD sets attributes on an imported function, class or module (or on what an importer or getattr returned) rather than on a new instance.",
  },
  {
    id: PICKLE_RULE.replacedGlobal,
    severity: "high",
    description:
      "An import resolves to an object the pickle stored in its place earlier (BUILD on a module or function, a sys.modules entry), not to what its name says.",
  },
  {
    id: PICKLE_RULE.methodOnGlobal,
    severity: "high",
    description:
      "APPEND/SETITEM/ADDITEMS call extend/__setitem__/add on an imported object (e.g. os.environ).",
  },
  {
    id: PICKLE_RULE.malformed,
    severity: "high",
    description:
      "The pickle is malformed or truncated; a loader runs every opcode before the fault, so earlier payloads still run.",
  },
  {
    id: PICKLE_RULE.trailingData,
    severity: "high",
    description: "Bytes follow the pickle's STOP that are not another complete pickle.",
  },
  {
    id: PICKLE_RULE.stacked,
    severity: "info",
    description:
      "Several pickles follow one another in one stream; code that calls load repeatedly runs them all.",
  },
]);
