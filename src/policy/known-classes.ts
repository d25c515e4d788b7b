/**
 * Curated library globals that real checkpoints contain (DESIGN.md principle 4): not on the
 * allowlist, because constructing them is more than building plain data, but expected and not
 * known to be abusable. They are reported as `pickle.known-library-global` at low severity so a
 * reviewer sees them without the file being called suspicious.
 *
 * The bar for an entry: constructing it (REDUCE passes positional arguments only) or applying
 * `BUILD` state to it runs no code the file chooses, opens no file for writing and no connection.
 * A denylist match always wins over this list (`sklearn.datasets` is denied although `sklearn.*`
 * is known).
 *
 * `name` is either an exact `module.name`, or `module.*`: any *class* (a CapWords name such as
 * `LinearRegression`, `_Tree` — never a lower-case function) in that module or a submodule. Library
 * functions stay unknown, because a function is a call with file-chosen arguments.
 */

export interface KnownEntry {
  /** Exact `module.name`, or `module.*` for any class under that module. */
  name: string;
  /** What it is and why it is expected, in the user's terms. */
  reason: string;
}

const known = (name: string, reason: string): KnownEntry => ({ name, reason });
const many = (names: readonly string[], reason: string): KnownEntry[] =>
  names.map((name) => known(name, reason));

const ENUM = "An enumeration; constructing it only looks a member up by value.";
const DATACLASS = "A configuration dataclass; constructing it only stores its fields.";
const STDLIB_VALUE = "Standard-library value type; constructing it only builds the value.";

const STDLIB: KnownEntry[] = [
  known(
    "collections.Counter",
    "Counting dict; also on PyTorch's weights-only allowlist. Building it only counts the data.",
  ),
  known(
    "collections.defaultdict",
    "Dict with a default factory. Loading only stores the factory (a separate global, classified " +
      "on its own); code that later reads a missing key calls it with no arguments. Not allowed " +
      "outright for that reason.",
  ),
  known("collections.deque", "Double-ended queue; building it only stores the items."),
  ...many(
    ["collections.UserDict", "collections.UserList", "collections.UserString"],
    "Container wrapper class; building it only stores the data.",
  ),
  ...many(
    [
      "datetime.datetime",
      "datetime.date",
      "datetime.time",
      "datetime.timedelta",
      "datetime.timezone",
      "decimal.Decimal",
      "fractions.Fraction",
      "uuid.UUID",
    ],
    STDLIB_VALUE,
  ),
  ...many(["enum.Enum", "enum.IntEnum", "enum.Flag", "enum.IntFlag", "enum.StrEnum"], ENUM),
  known(
    "argparse.Namespace",
    "Command-line arguments saved with a checkpoint; a plain attribute bag.",
  ),
  known("types.SimpleNamespace", "A plain attribute bag."),
  known(
    "re._compile",
    "How compiled regular expressions pickle; compiles a pattern (no code runs, though a hostile " +
      "pattern can be slow to match later).",
  ),
  ...many(
    [
      "pathlib.Path",
      "pathlib.PurePath",
      "pathlib.PosixPath",
      "pathlib.WindowsPath",
      "pathlib.PurePosixPath",
      "pathlib.PureWindowsPath",
      "pathlib._local.Path",
      "pathlib._local.PosixPath",
      "pathlib._local.WindowsPath",
      "pathlib._local.PurePath",
      "pathlib._local.PurePosixPath",
      "pathlib._local.PureWindowsPath",
    ],
    "A file system path value (e.g. an output directory in saved arguments). Constructing it does " +
      "no I/O; the methods that do (`write_text`, `unlink`, `open`…) are denied when a pickle " +
      "reaches them through an attribute chain, and `getattr` is denied.",
  ),
  ...many(
    [
      "typing.Any",
      "typing.Dict",
      "typing.List",
      "typing.Tuple",
      "typing.Set",
      "typing.Optional",
      "typing.Union",
    ],
    "A typing construct (OmegaConf and dataclass configs store field types); not a data builder.",
  ),
  known("_io.BytesIO", "In-memory byte buffer; no file is involved."),
  known("io.BytesIO", "In-memory byte buffer; no file is involved."),
];

const TORCH: KnownEntry[] = [
  known(
    "__torch__.*",
    "A TorchScript class of a `torch.jit.save` archive: the TorchScript loader builds it from the " +
      "archive's own compiled code (`code/`, scanned separately), never by importing Python.",
  ),
  known(
    "torch.nn.modules.*",
    "PyTorch layer class (a whole pickled model, not just a `state_dict`); modules are rebuilt " +
      "from their attribute dict without running `__init__`.",
  ),
  known(
    "torch.nn.parameter.*",
    "Parameter and buffer classes (`Buffer`, `UninitializedParameter`).",
  ),
  known("torch.nn.utils.parametrize.*", "Parametrization containers of a pickled model."),
  known(
    "torch.nn.utils.parametrizations.*",
    "Parametrization classes (weight norm, spectral norm).",
  ),
  known("torch.nn.intrinsic.*", "Fused layer classes of quantization-aware models."),
  known("torch.nn.quantized.*", "Quantized layer classes."),
  known("torch.ao.nn.*", "Quantized and fused layer classes."),
  known("torch.ao.quantization.*", "Quantization observers, fake-quant modules and configs."),
  known(
    "torch.optim.*",
    "Optimizer and learning-rate scheduler classes saved with a training checkpoint.",
  ),
  known("torch.distributions.*", "Probability distribution classes."),
  known(
    "torch.distributed.checkpoint.metadata.*",
    "Metadata records of a distributed checkpoint (`.metadata` files).",
  ),
  ...many(
    [
      "torch.distributed.tensor.DTensor",
      "torch.distributed.tensor._api.DTensor",
      "torch.distributed._tensor.api.DTensor",
      "torch.distributed.tensor._dtensor_spec.DTensorSpec",
      "torch.distributed.tensor._dtensor_spec.TensorMeta",
      "torch.distributed.tensor.placement_types.Shard",
      "torch.distributed.tensor.placement_types.Replicate",
      "torch.distributed.tensor.placement_types.Partial",
    ],
    "Distributed-tensor record of a sharded checkpoint (PyTorch names it in its weights-only loader).",
  ),
  ...many(
    ["torch.amp.grad_scaler.GradScaler", "torch.cuda.amp.grad_scaler.GradScaler"],
    "Mixed-precision loss scaler state saved with a training checkpoint.",
  ),
];

const NUMPY: KnownEntry[] = [
  known("numpy.dtypes.*", "NumPy 2 dtype classes (`Float64DType`…); describe a type."),
  ...many(
    [
      "numpy.random._mt19937.MT19937",
      "numpy.random._pcg64.PCG64",
      "numpy.random._pcg64.PCG64DXSM",
      "numpy.random._philox.Philox",
      "numpy.random._sfc64.SFC64",
      "numpy.random.mtrand.RandomState",
      "numpy.random._generator.Generator",
      "numpy.random.bit_generator.SeedSequence",
      "numpy.random.bit_generator.BitGenerator",
    ],
    "NumPy random generator class; its state arrives as plain data.",
  ),
  ...many(
    ["numpy.ma.core.MaskedArray", "numpy.ma.core._mareconstruct"],
    "NumPy masked array and its rebuild helper; builds arrays.",
  ),
];

const SKLEARN_AND_CO: KnownEntry[] = [
  known(
    "sklearn.*",
    "scikit-learn class (estimator, tree structure such as `sklearn.tree._tree.Tree`, loss). " +
      "scikit-learn's own API contract keeps constructors to storing parameters; its dataset " +
      "downloaders and test helpers are denied separately.",
  ),
  known("scipy.sparse.*", "SciPy sparse matrix class; stores arrays."),
  // SciPy names its sparse classes in lower case (`csr_matrix`), which `module.*` never matches
  // (it takes CapWords classes only), so each is listed: the module it lives in since SciPy 1.8
  // (`scipy.sparse._csr`), the older public one (`scipy.sparse.csr`), and 1.8–1.10's `_arrays`.
  ...many(
    ["bsr", "coo", "csc", "csr", "dia", "dok", "lil"].flatMap((fmt) =>
      [`scipy.sparse._${fmt}`, `scipy.sparse.${fmt}`, "scipy.sparse._arrays"].flatMap((module) => [
        `${module}.${fmt}_matrix`,
        `${module}.${fmt}_array`,
      ]),
    ),
    "SciPy sparse matrix or array (TF-IDF vectorisers and many estimators store them); unpickling " +
      "only stores its index and data arrays.",
  ),
  ...many(
    [
      "xgboost.sklearn.XGBClassifier",
      "xgboost.sklearn.XGBRegressor",
      "xgboost.sklearn.XGBRanker",
      "xgboost.sklearn.XGBRFClassifier",
      "xgboost.sklearn.XGBRFRegressor",
      "xgboost.core.Booster",
    ],
    "XGBoost model; its state is a serialized model buffer parsed by XGBoost's native code.",
  ),
  ...many(
    [
      "lightgbm.sklearn.LGBMClassifier",
      "lightgbm.sklearn.LGBMRegressor",
      "lightgbm.sklearn.LGBMRanker",
      "lightgbm.basic.Booster",
    ],
    "LightGBM model; its state is a model string parsed by LightGBM's native code.",
  ),
];

const PANDAS: KnownEntry[] = [
  known(
    "pandas.core.*",
    "pandas data structure class (`DataFrame`, `Series`, indexes, blocks, arrays, dtypes).",
  ),
  known(
    "pandas._libs.*",
    "pandas compiled data class (`Timestamp`, `Timedelta`, `BlockPlacement`).",
  ),
  ...many(
    [
      "pandas._libs.internals._unpickle_block",
      "pandas.core.internals.blocks.new_block",
      "pandas.core.indexes.base._new_Index",
      "pandas.core.indexes.datetimes._new_DatetimeIndex",
      "pandas.core.indexes.period._new_PeriodIndex",
      "pandas._libs.tslibs.timestamps._unpickle_timestamp",
      "pandas._libs.tslibs.nattype.__nat_unpickle",
      "pandas._libs.arrays.__pyx_unpickle_NDArrayBacked",
    ],
    "pandas unpickling helper: rebuilds a block, index or timestamp from arrays (an index helper " +
      "instantiates the index class the file names, a separate global).",
  ),
];

const HF: KnownEntry[] = [
  ...many(
    [
      "transformers.training_args.TrainingArguments",
      "transformers.training_args_seq2seq.Seq2SeqTrainingArguments",
      "transformers.trainer_pt_utils.AcceleratorConfig",
    ],
    `${DATACLASS} (\`training_args.bin\`; \`push_to_hub\` fields only matter if the victim trains.)`,
  ),
  ...many(
    [
      "transformers.training_args.OptimizerNames",
      "transformers.training_args.ParallelMode",
      "transformers.trainer_utils.IntervalStrategy",
      "transformers.trainer_utils.SchedulerType",
      "transformers.trainer_utils.HubStrategy",
      "transformers.trainer_utils.EvaluationStrategy",
      "transformers.trainer_utils.SaveStrategy",
      "transformers.trainer_utils.FSDPOption",
      "transformers.trainer_utils.ShardedDDPOption",
      "transformers.debug_utils.DebugOption",
      "transformers.utils.generic.PaddingStrategy",
      "transformers.utils.generic.TensorType",
    ],
    ENUM,
  ),
  ...many(
    [
      "transformers.integrations.deepspeed.HfTrainerDeepSpeedConfig",
      "transformers.integrations.deepspeed.HfDeepSpeedConfig",
      "transformers.deepspeed.HfTrainerDeepSpeedConfig",
      "transformers.deepspeed.HfDeepSpeedConfig",
      "accelerate.utils.deepspeed.HfDeepSpeedConfig",
    ],
    "DeepSpeed config wrapper: a nested dict (the constructor may read a JSON file it is given; it runs nothing).",
  ),
  known(
    "accelerate.state.PartialState",
    "Accelerate process state kept in `TrainingArguments`; rebuilt without `__init__`, and REDUCE " +
      "cannot pass the keyword arguments its distributed setup takes.",
  ),
  ...many(
    [
      "accelerate.utils.dataclasses.DistributedType",
      "accelerate.utils.dataclasses.DynamoBackend",
      "accelerate.utils.dataclasses.PrecisionType",
    ],
    ENUM,
  ),
  ...many(
    [
      "accelerate.utils.dataclasses.DeepSpeedPlugin",
      "accelerate.utils.dataclasses.DataLoaderConfiguration",
      "accelerate.utils.dataclasses.GradientAccumulationPlugin",
    ],
    DATACLASS,
  ),
];

const CONFIGS: KnownEntry[] = [
  known(
    "omegaconf.*",
    "OmegaConf config container class (`DictConfig`, `ListConfig`, nodes, metadata) of Hydra/" +
      "Lightning checkpoints; interpolations resolve lazily and only through registered resolvers.",
  ),
  known("pytorch_lightning.callbacks.*", "Lightning callback class saved with a checkpoint."),
  known("lightning.pytorch.callbacks.*", "Lightning callback class saved with a checkpoint."),
  ...many(
    [
      "pytorch_lightning.utilities.parsing.AttributeDict",
      "lightning.pytorch.utilities.parsing.AttributeDict",
      "lightning_fabric.utilities.data.AttributeDict",
      "lightning.fabric.utilities.data.AttributeDict",
    ],
    "Lightning hyper-parameter dict (a dict with attribute access).",
  ),
  ...many(
    [
      "pytorch_lightning.trainer.states.TrainerFn",
      "pytorch_lightning.trainer.states.RunningStage",
      "pytorch_lightning.trainer.states.TrainerStatus",
      "lightning.pytorch.trainer.states.TrainerFn",
      "lightning.pytorch.trainer.states.RunningStage",
      "lightning.pytorch.trainer.states.TrainerStatus",
    ],
    ENUM,
  ),
];

/** Every known library global. */
export const KNOWN_GLOBALS: readonly KnownEntry[] = [
  ...STDLIB,
  ...TORCH,
  ...NUMPY,
  ...SKLEARN_AND_CO,
  ...PANDAS,
  ...HF,
  ...CONFIGS,
];
