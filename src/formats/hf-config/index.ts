/**
 * Hugging Face repository metadata and the configs of model archives that name code:
 * `hf-config` (config.json, tokenizer/processor configs: `auto_map`, `custom_pipelines`),
 * `torchserve-manifest` (MAR-INF/MANIFEST.json of a `.mar`) and `nemo-config` (model_config.yaml
 * of a `.nemo`). Python files themselves are the `python-source` analyser's.
 */
export { analyseHfConfig, detectHfConfig, HF_CONFIG_KEYS, hfConfigFormat } from "./hf-config.js";
export {
  analyseNemoConfig,
  detectNemoConfig,
  findHydraTargets,
  type HydraTarget,
  MAX_YAML_CONFIG_BYTES,
  NEMO_KNOWN_PREFIXES,
  nemoConfigFormat,
} from "./nemo-config.js";
export {
  isJsonObject,
  type JsonObject,
  type JsonParseError,
  type JsonParseOptions,
  type JsonValue,
  MAX_JSON_DEPTH,
  parseJson,
} from "./parse-json.js";
export { MAX_JSON_CONFIG_BYTES } from "./read-json.js";
export {
  autoMapReferences,
  parseClassReference,
  type RemoteCodeReference,
  remoteCodeFindings,
} from "./remote-code.js";
export { HF_RULES, type HfRule, type HfRuleKey } from "./rules.js";
export {
  analyseTorchServeManifest,
  detectTorchServeManifest,
  handlerModule,
  TORCHSERVE_BUILTIN_HANDLERS,
  torchServeManifestFormat,
} from "./torchserve-manifest.js";
