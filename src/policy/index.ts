/**
 * The policy layer (DESIGN.md "policy/"): what modelvet knows about the globals a pickle can
 * reach — allowlist, denylist, known library classes, the Python 2 name mapping — and a small
 * matcher over them. Pure data and pure functions; runs in Node and the browser.
 */

import { createPolicy } from "./match.js";
import type { Policy } from "./types.js";

export { ALLOWED_GLOBALS, type AllowEntry, REFUSED_GLOBALS } from "./allowlist.js";
export {
  type Importable,
  mapPython2Name,
  PYTHON2_MODULE_RENAMES,
  PYTHON2_NAME_RENAMES,
} from "./compat.js";
export {
  CHAIN_DENIED_NAMES,
  DENYLIST,
  type DenyEntry,
  type DenyKind,
  denyKey,
  MODULE_HANDLE_NAMES,
  REEXPORT_NAMES,
} from "./denylist.js";
export { KNOWN_GLOBALS, type KnownEntry } from "./known-classes.js";
export {
  ALLOWED_DUNDERS,
  createPolicy,
  KNOWN_MODULES,
  MAX_GLOBAL_NAME_LENGTH,
  type PolicyOptions,
  parseImportable,
  validatePolicyOptions,
} from "./match.js";
export {
  DANGEROUS_GLOBAL_RULE,
  KNOWN_LIBRARY_GLOBAL_RULE,
  type PolicyRuleId,
  RULES,
  type RuleInfo,
  ruleFor,
  UNKNOWN_GLOBAL_RULE,
} from "./rules.js";
export type { GlobalClass, GlobalVerdict, Policy } from "./types.js";

/** The built-in policy, with no user additions. */
export const BUILTIN_POLICY: Policy = createPolicy();
