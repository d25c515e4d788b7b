import type { RatedRule } from "../../core/rule-info.js";

/** A rule this module can report: stable id, default severity, one line for docs/rules.md. */
export type HfRule = RatedRule;

/**
 * Rules for Hugging Face repository metadata (config.json, tokenizer_config.json, processor
 * configs), TorchServe manifests and NeMo/Hydra model configs.
 */
export const HF_RULES = Object.freeze({
  remoteCode: {
    id: "hf.remote-code",
    severity: "high",
    description:
      "`auto_map` or `custom_pipelines` names Python code that `from_pretrained(..., trust_remote_code=True)` downloads, imports and runs (from this repository, or from another one with `org/repo--module.Class`).",
  },
  trustRemoteCode: {
    id: "hf.trust-remote-code",
    severity: "medium",
    description:
      "A config sets `trust_remote_code: true`, asking whatever reads it to run repository code without asking.",
  },
  malformedConfig: {
    id: "hf.malformed-config",
    severity: "medium",
    description:
      "A JSON config that Python's `json.loads` would refuse (or nested too deep to check): loaders fail on it, and it could not be vetted.",
  },
  torchServeHandler: {
    id: "torchserve.handler",
    severity: "info",
    description:
      "A TorchServe model archive names the handler (and model) code that TorchServe imports and runs when the model is served.",
  },
  torchServeRequirements: {
    id: "torchserve.requirements",
    severity: "low",
    description:
      "A TorchServe model archive ships a requirements file, which TorchServe pip-installs (running package setup code) when per-model dependencies are enabled.",
  },
  hydraTarget: {
    id: "hydra.target",
    severity: "medium",
    description:
      "A NeMo/Hydra config names a class or function (`_target_:`, `target:`) that restoring the model imports and calls; critical when the policy denies it, medium when unknown.",
  },
} satisfies Record<string, HfRule>);

export type HfRuleKey = keyof typeof HF_RULES;
