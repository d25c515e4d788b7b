import { DEFAULT_LIMITS } from "../core/limits.js";
import { writePolicyYaml } from "../policy/policy-file.js";
import type { PolicyShowOptions } from "./program.js";
import { resolvePolicy } from "./resolve-policy.js";
import type { Terminal } from "./run-scan.js";

/** `modelvet policy show`: the policy a scan of `path` would apply, as YAML. */
export async function runPolicyShow(options: PolicyShowOptions, term: Terminal): Promise<void> {
  const { path, file } = await resolvePolicy(options.policy, options.path);
  term.stdout.write(
    writePolicyYaml(
      {
        source: path,
        failOn: file.failOn ?? "medium",
        allow: file.allow,
        deny: file.deny,
        severity: file.severity,
        ignore: file.ignore,
      },
      { ...DEFAULT_LIMITS, ...file.limits },
    ),
  );
}
