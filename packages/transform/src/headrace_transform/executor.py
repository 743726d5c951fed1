# mypy: disable-error-code="no-untyped-call,attr-defined,name-defined"
"""``Transform``'s executor: tf.Transform on Apache Beam, with TFX's layouts.

Reads gzipped tf.Example TFRecords from ``<examples.uri>/Split-<name>/`` through tfx-bsl's
``TFExampleRecord`` with the raw schema (``<schema.uri>/schema.pbtxt``), analyzes the
``analyze`` splits with ``tft_beam.AnalyzeDatasetWithCache`` (``AnalyzeDataset`` when the cache
is disabled) and transforms the ``transform`` splits with ``tft_beam.TransformDataset``, in one
Beam pipeline built with the pipeline's Beam arguments.

Each split is read once: a split that is both analyzed and transformed feeds both from the
same read (projected to the columns either needs), and a split whose analysis is fully
covered by the analyzer cache is not read for analysis at all.

Analyzer cache: each analyzed split is a tf.Transform dataset keyed by the split name and the
content fingerprint of its Examples artifact, so unchanged data hits the cache whatever its
path. The counts of cache entries read and written are recorded on the
``updated_analyzer_cache`` artifact (custom properties ``cache_entries_read``,
``cache_entries_written``, ``datasets_analyzed``, ``datasets_from_cache``).
"""

from __future__ import annotations

import os

# tf.Transform's Keras layer and TFT-exported SavedModels need Keras 2; tf.keras reads the
# variable once, the first time it is touched. Set before TensorFlow is imported, unless the
# user chose otherwise (then _check_keras explains the failure).
os.environ.setdefault("TF_USE_LEGACY_KERAS", "1")

import hashlib
import json
import logging
import shutil
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import apache_beam as beam
import tensorflow as tf
import tensorflow_transform as tft
import tensorflow_transform.beam as tft_beam
from tensorflow_metadata.proto.v0 import schema_pb2
from tensorflow_transform.beam import analyzer_cache
from tensorflow_transform.tf_metadata import dataset_metadata, metadata_io
from tfx_bsl.public import tfxio as tfxio_lib

from headrace_core import Artifact, BaseExecutor
from headrace_core.artifacts import encode_split_names, split_uri
from headrace_core.cache import FINGERPRINT_PROPERTY, fingerprint_path
from headrace_core.executor import describe_directory, single_input, split_names
from headrace_core.usercode import with_user_code
from headrace_tfdv_io import SCHEMA_FILE, load_schema
from headrace_transform.component import normalize_splits_config
from headrace_transform.udf import load_preprocessing_fn

__all__ = [
    "SCHEMA_FILE",
    "TRANSFORMED_EXAMPLES_PREFIX",
    "Executor",
    "KerasVersionError",
    "PROJECTION_MIN_BYTES",
    "TransformStats",
]

log = logging.getLogger(__name__)

#: TFX's file name prefix inside each Split-<name>/ of transformed_examples.
TRANSFORMED_EXAMPLES_PREFIX = "transformed_examples"
_TELEMETRY = ["headrace", "Transform"]
_METRICS_NAMESPACE = "tfx.Transform"


class KerasVersionError(RuntimeError):
    """tf.keras is Keras 3 in this process; tf.Transform needs Keras 2 (tf_keras)."""


def _check_keras() -> None:
    version_fn = getattr(tf.keras, "version", None)
    version = version_fn() if callable(version_fn) else getattr(tf.keras, "__version__", "")
    if str(version).startswith("3."):
        setting = os.environ.get("TF_USE_LEGACY_KERAS")
        raise KerasVersionError(
            f"Transform: tf.keras is Keras {version} in this process, but tf.Transform needs "
            "Keras 2 (tf_keras): its transform graph and TransformFeaturesLayer are Keras 2 "
            "objects a Keras 3 trainer cannot use. TensorFlow picks the Keras version once, "
            "when tf.keras is first touched, from TF_USE_LEGACY_KERAS "
            f"(now {setting!r}). headrace sets TF_USE_LEGACY_KERAS=1 before any executor "
            "runs; here either the variable was set to another value, or something touched "
            "tf.keras before the runner started (an import in the pipeline file, a notebook "
            "cell). Do not set TF_USE_LEGACY_KERAS yourself, and run the pipeline in a fresh "
            "process (or with --isolation subprocess)."
        )


def _split_names(artifact: Artifact) -> list[str]:
    return split_names(artifact, component="Transform", role="examples")


def _data_files(artifact: Artifact, split: str) -> str:
    """The file pattern of one split, after checking it holds data."""
    directory = split_uri(artifact, split)
    if not os.path.isdir(directory) or not any(
        not name.startswith(".") and os.path.isfile(os.path.join(directory, name))
        for name in os.listdir(directory)
    ):
        raise FileNotFoundError(
            f"Transform: split '{split}' of examples {artifact.uri} has no data files in "
            f"{directory} ({describe_directory(directory)})"
        )
    return os.path.join(directory, "*")


def _dataset_key(artifact: Artifact, split: str) -> analyzer_cache.DatasetKey:
    """The analyzer-cache key of one analyzed split: its name and its data's content.

    The artifact's ``fingerprint`` (a content hash computed once when it was published) makes
    unchanged data hit the cache whatever its path; without one the split is hashed here.
    """
    fingerprint = artifact.get_custom_property(FINGERPRINT_PROPERTY)
    if fingerprint:
        content = f"{fingerprint}:{split}"
    else:
        content = f"split:{fingerprint_path(split_uri(artifact, split))}"
    digest = hashlib.sha256(content.encode()).hexdigest()[:32]
    safe_split = "".join(c if c.isalnum() or c in "-_." else "_" for c in split)
    return analyzer_cache.DatasetKey(f"Split-{safe_split}-{digest}")


@dataclass
class TransformStats:
    """What one run did: read from the Beam metrics after the pipeline finishes."""

    datasets_analyzed: list[str] = field(default_factory=list)
    datasets_from_cache: list[str] = field(default_factory=list)
    cache_entries_read: int = 0
    cache_entries_written: int = 0
    seconds: float = 0.0


@dataclass
class _Input:
    """One (Examples artifact, split) to read."""

    artifact: Artifact
    split: str
    pattern: str
    analyze: bool = False
    transform: bool = False
    dataset_key: analyzer_cache.DatasetKey | None = None


def _counter(result: Any, name: str) -> int:
    try:
        metrics = result.metrics().query(
            beam.metrics.MetricsFilter().with_namespace(_METRICS_NAMESPACE).with_name(name)
        )
    except Exception:  # a runner without metrics support
        return 0
    return int(sum(c.committed or c.attempted or 0 for c in metrics["counters"]))


#: Below this many bytes of input, the splits are read whole: finding the columns the
#: preprocessing_fn needs costs one more trace of it (half a second for the taxi example),
#: more than decoding the unused columns of a small data set.
PROJECTION_MIN_BYTES = 32 * 1024 * 1024


def _input_bytes(inputs: Sequence[_Input]) -> int:
    total = 0
    for item in inputs:
        for path in tf.io.gfile.glob(item.pattern):
            total += tf.io.gfile.stat(path).length
    return total


def _trace_error(
    fn_source: str, typespecs: Mapping[str, Any], error: Exception, step: str = "tracing"
) -> ValueError:
    return ValueError(
        f"Transform: {step} preprocessing_fn of {fn_source} failed on the schema's features "
        f"({', '.join(sorted(typespecs))}): {type(error).__name__}: {error}"
    )


def _input_columns(
    preprocessing_fn: Callable[..., Any], typespecs: Mapping[str, Any]
) -> tuple[set[str], set[str]]:
    """The columns the analyzers need and the columns the transform graph needs.

    ``tft.get_analyze_input_columns`` and ``tft.get_transform_input_columns`` each trace the
    preprocessing_fn (about half a second for the taxi example); this traces it once, with the
    same steps as those two functions, and falls back to them if tf.Transform's internals
    differ from the pinned 1.16.
    """
    try:
        import itertools

        from tensorflow_transform import (
            analyzer_nodes,
            graph_tools,
            impl_helper,
            nodes,
            tf2_utils,
        )

        graph, structured_inputs, structured_outputs = impl_helper.trace_preprocessing_function(
            preprocessing_fn, typespecs, use_tf_compat_v1=False
        )
        visitor = graph_tools.SourcedTensorsVisitor()
        for sink in graph.get_collection(analyzer_nodes.TENSOR_REPLACEMENTS):
            nodes.Traverser(visitor).visit_value_node(sink.future)
        _, control_dependencies = tf2_utils.strip_and_get_tensors_and_control_dependencies(
            tf.nest.flatten(structured_outputs, expand_composites=True)
        )
        analyze = graph_tools.get_dependent_inputs(
            graph,
            structured_inputs,
            list(itertools.chain(visitor.sourced_tensors, control_dependencies)),
        )
        transform = graph_tools.get_dependent_inputs(graph, structured_inputs, structured_outputs)
        return set(analyze), set(transform)
    except (ImportError, AttributeError, TypeError):
        log.debug("tf.Transform internals differ; tracing preprocessing_fn twice", exc_info=True)
    return (
        set(tft.get_analyze_input_columns(preprocessing_fn, typespecs)),
        set(tft.get_transform_input_columns(preprocessing_fn, typespecs)),
    )


class _CacheSink(beam.PTransform[Any, Any]):
    """The ``sink`` of ``WriteAnalysisCacheToFS``: collects an entry for
    :func:`_write_cache`, which writes every entry of the cache in one Beam stage.

    ``WriteAnalysisCacheToFS`` writes each cache entry (and each dataset's metadata) with its
    own ``WriteToTFRecord``, and ``ReadAnalysisCacheFromFS`` reads each with its own
    ``ReadFromTFRecord``: several Beam stages per entry, about 1.5 s of CPU for the taxi
    example's nine analyzers on the in-memory runner, 10-15% of the whole Transform. The files
    stay tf.Transform's (``<index>-00000-of-00001.gz`` gzipped TFRecords and
    ``METADATA-00000-of-00001`` beside the MANIFEST), so TFX and tf.Transform read them.
    """

    def __init__(self, file_path_prefix: str) -> None:
        super().__init__()
        self._path = f"{file_path_prefix}-00000-of-00001.gz"

    def expand(self, pcoll: Any) -> Any:
        # <cache dir>/<dataset key>/<entry index>: the collector is the cache directory's.
        base = os.path.dirname(os.path.dirname(self._path))
        with _COLLECTORS_LOCK:
            collector = _COLLECTORS[base]
        collector.append(pcoll | "Tag" >> beam.Map(lambda v, p=self._path: (p, v)))
        return pcoll


class _CacheSource(beam.PTransform[Any, Any]):
    """The ``source`` of ``ReadAnalysisCacheFromFS``: one stage per entry (see _CacheSink)."""

    def __init__(self, file_pattern: str) -> None:
        super().__init__()
        self._pattern = file_pattern

    def expand(self, pipeline: Any) -> Any:
        return (
            pipeline
            | "Pattern" >> beam.Create([self._pattern])
            | "Read" >> beam.FlatMap(_read_cache_files)
        )


#: tf.Transform's name for a dataset's cache metadata (its ``_METADATA_FILE_NAME``), one shard.
_CACHE_METADATA_FILE = "METADATA-00000-of-00001"
_COLLECTORS: dict[str, list[Any]] = {}
_COLLECTORS_LOCK = threading.Lock()


def _write_cache(pipeline: beam.Pipeline, cache_output: Any, directory: str, keys: Any) -> None:
    """``WriteAnalysisCacheToFS`` with :class:`_CacheSink`, then the one writing stage."""
    entries: list[Any] = []
    directory = directory.rstrip("/")
    # Each dataset's metadata (its size) goes to the same writing stage as the entries.
    without_metadata = {}
    for index, (key, cache) in enumerate(cache_output.items()):
        metadata = cache.metadata
        if metadata is not None:
            if not isinstance(metadata, beam.pvalue.PCollection):
                metadata = pipeline | f"CreateCacheMetadata[{index}]" >> beam.Create([metadata])
            path = os.path.join(directory, key.key, _CACHE_METADATA_FILE)
            entries.append(
                metadata
                | f"EncodeCacheMetadata[{index}]" >> beam.Map(lambda m, p=path: (p, m.encode()))
            )
        without_metadata[key] = analyzer_cache.DatasetCache(cache.cache_dict, None)
    with _COLLECTORS_LOCK:
        _COLLECTORS[directory] = entries
    try:
        _ = without_metadata | "WriteCache" >> analyzer_cache.WriteAnalysisCacheToFS(
            pipeline, directory, dataset_keys=keys, sink=_CacheSink
        )
    finally:
        with _COLLECTORS_LOCK:
            del _COLLECTORS[directory]
    if entries:
        _ = (
            entries
            | "FlattenCacheEntries" >> beam.Flatten(pipeline=pipeline)
            | "GroupCacheEntries" >> beam.GroupByKey()
            | "WriteCacheEntries" >> beam.Map(_write_cache_file)
        )


def _write_cache_file(element: tuple[str, Any]) -> None:
    path, values = element
    compression = "GZIP" if path.endswith(".gz") else ""
    options = tf.io.TFRecordOptions(compression_type=compression)
    with tf.io.TFRecordWriter(path, options=options) as writer:
        for value in values:
            writer.write(value)


def _read_cache_files(pattern: str) -> Any:
    files = sorted(tf.io.gfile.glob(pattern))
    if files:
        dataset = tf.data.TFRecordDataset(files, compression_type="GZIP")
        yield from dataset.as_numpy_iterator()


@beam.typehints.with_input_types(Any)
@beam.typehints.with_output_types(bytes)
class _EncodeExamples(beam.DoFn):
    """Transformed record batches to serialized tf.Examples."""

    def setup(self) -> None:
        self._encoder = tfxio_lib.RecordBatchToExamplesEncoder()

    def process(self, element: Any) -> Any:
        record_batch, _ = element
        yield from self._encoder.encode(record_batch)


class Executor(BaseExecutor):
    """Analyzes and transforms examples with the user's ``preprocessing_fn``."""

    #: Filled by :meth:`Do` for callers (tests, benchmarks) that want the figures directly.
    last_stats: TransformStats | None = None

    def Do(  # noqa: N802 - TFX's method name
        self,
        input_dict: dict[str, list[Artifact]],
        output_dict: dict[str, list[Artifact]],
        exec_properties: dict[str, Any],
    ) -> None:
        started = time.monotonic()
        examples_list = list(input_dict.get("examples") or [])
        if not examples_list:
            raise ValueError("Transform: input 'examples' holds no artifact")
        schema_artifact = single_input(input_dict, "schema", component="Transform")
        cache_in = single_input(input_dict, "analyzer_cache", component="Transform", optional=True)
        graph_out = single_input(
            output_dict, "transform_graph", component="Transform", what="output"
        )
        examples_out = single_input(
            output_dict, "transformed_examples", component="Transform", what="output", optional=True
        )
        cache_out = single_input(
            output_dict,
            "updated_analyzer_cache",
            component="Transform",
            what="output",
            optional=True,
        )

        materialize = bool(exec_properties.get("materialize", True))
        use_cache = not bool(exec_properties.get("disable_analyzer_cache", False))
        custom_config = exec_properties.get("custom_config")
        if isinstance(custom_config, str):  # TFX passes JSON strings
            custom_config = json.loads(custom_config) if custom_config else None

        splits = _split_names(examples_list[0])
        for other in examples_list[1:]:
            if set(_split_names(other)) != set(splits):
                raise ValueError(
                    f"Transform: examples artifacts have different splits: {examples_list[0].uri} "
                    f"has {splits}, {other.uri} has {_split_names(other)}"
                )
        config = normalize_splits_config(exec_properties.get("splits_config"))
        analyze = config["analyze"] if config else ["train"]
        transform = (config or {}).get("transform") or list(splits)
        for role, names in (("analyze", analyze), ("transform", transform)):
            missing = [s for s in names if s not in splits]
            if missing:
                raise ValueError(
                    f"Transform: splits_config[{role!r}] names split(s) "
                    f"{', '.join(repr(s) for s in missing)}, which examples "
                    f"{examples_list[0].uri} does not have (its splits: {', '.join(splits)})"
                )
        if materialize and examples_out is None:
            raise ValueError("Transform: materialize=True but no transformed_examples output")
        if materialize and len(examples_list) > 1:
            raise ValueError(
                f"Transform: materialize=True with {len(examples_list)} examples artifacts: "
                "transformed_examples holds one artifact; analyze several spans with "
                "materialize=False, or transform one artifact at a time"
            )

        inputs: list[_Input] = []
        for artifact in examples_list:
            for split in splits:
                wanted_analyze = split in analyze
                wanted_transform = materialize and split in transform
                if not (wanted_analyze or wanted_transform):
                    continue
                item = _Input(
                    artifact,
                    split,
                    _data_files(artifact, split),
                    wanted_analyze,
                    wanted_transform,
                )
                if wanted_analyze:
                    item.dataset_key = _dataset_key(artifact, split)
                    twin = next((i for i in inputs if i.dataset_key == item.dataset_key), None)
                    if twin is not None:
                        raise ValueError(
                            f"Transform: split '{split}' of {artifact.uri} holds the same data as "
                            f"split '{twin.split}' of {twin.artifact.uri}; pass it once"
                        )
                inputs.append(item)

        schema = load_schema(schema_artifact.uri, component="Transform")
        preprocessing_fn = load_preprocessing_fn(
            exec_properties.get("module_file"),
            exec_properties.get("preprocessing_fn"),
            custom_config,
        )
        _check_keras()

        stats = self._run(
            inputs=inputs,
            schema=schema,
            preprocessing_fn=preprocessing_fn,
            fn_source=(
                f"module_file {exec_properties['module_file']}"
                if exec_properties.get("module_file")
                else f"{exec_properties.get('preprocessing_fn')!r}"
            ),
            transform_output=graph_out.uri,
            examples_output=examples_out.uri if materialize and examples_out else None,
            input_cache_dir=(
                cache_in.uri
                if use_cache and cache_in is not None and os.path.isdir(cache_in.uri)
                else None
            ),
            output_cache_dir=cache_out.uri if use_cache and cache_out is not None else None,
        )
        stats.seconds = time.monotonic() - started
        self.last_stats = stats

        if examples_out is not None and materialize:
            examples_out.split_names = encode_split_names([s for s in splits if s in transform])
            span = examples_list[0].get_property("span")
            examples_out.span = span if isinstance(span, int) else 0
            version = examples_list[0].get_property("version")
            if isinstance(version, int):
                examples_out.version = version
        if cache_out is not None and use_cache:
            cache_out.set_custom_property("cache_entries_read", stats.cache_entries_read)
            cache_out.set_custom_property("cache_entries_written", stats.cache_entries_written)
            cache_out.set_custom_property("datasets_analyzed", len(stats.datasets_analyzed))
            cache_out.set_custom_property("datasets_from_cache", len(stats.datasets_from_cache))
        log.info(
            "Transform: analyzed %s, from cache %s; cache entries read %d, written %d; %.1f s",
            stats.datasets_analyzed or "nothing",
            stats.datasets_from_cache or "nothing",
            stats.cache_entries_read,
            stats.cache_entries_written,
            stats.seconds,
        )

    # The Beam pipeline -----------------------------------------------------------------------

    def _run(
        self,
        *,
        inputs: Sequence[_Input],
        schema: schema_pb2.Schema,
        preprocessing_fn: Callable[..., Any],
        fn_source: str,
        transform_output: str,
        examples_output: str | None,
        input_cache_dir: str | None,
        output_cache_dir: str | None,
    ) -> TransformStats:
        stats = TransformStats()
        base = tfxio_lib.TFExampleRecord(
            file_pattern=inputs[0].pattern,
            schema=schema,
            telemetry_descriptors=_TELEMETRY,
        )
        typespecs = base.TensorAdapter().OriginalTypeSpecs()
        analyzed = [i for i in inputs if i.analyze]
        analysis_columns = transform_read_columns = sorted(typespecs)
        if _input_bytes(inputs) >= PROJECTION_MIN_BYTES:
            try:
                analyze_columns, transform_columns = _input_columns(preprocessing_fn, typespecs)
            except Exception as e:
                raise _trace_error(fn_source, typespecs, e) from e
            # Every analysis dataset shares one tensor adapter config; when an analyzed split
            # is also transformed it is read once, with the columns both steps need.
            wanted = set(analyze_columns)
            if any(i.transform for i in analyzed):
                wanted |= transform_columns
            # A read needs one column at least (a preprocessing_fn without analyzers).
            analysis_columns = sorted(wanted or list(typespecs)[:1])
            transform_read_columns = sorted(transform_columns or typespecs)
        analysis_tfxio = base.Project(analysis_columns)
        transform_tfxio = base.Project(transform_read_columns)

        temp_dir = os.path.join(self._get_tmp_dir(), "tft")
        with tft_beam.Context(temp_dir=temp_dir):
            # Workers import preprocessing_fn by name: a module file's copy travels with them.
            args = with_user_code(self._get_beam_pipeline_args(), preprocessing_fn)
            pipeline = beam.Pipeline(argv=args)
            reads: dict[int, Any] = {}

            def read(index: int, item: _Input) -> Any:
                """The split's record batches: one read, shared by analysis and transform."""
                if index not in reads:
                    columns = analysis_columns if item.analyze else transform_read_columns
                    source = tfxio_lib.TFExampleRecord(
                        file_pattern=item.pattern, schema=schema, telemetry_descriptors=_TELEMETRY
                    ).Project(columns)
                    reads[index] = pipeline | f"Read[{item.split}][{index}]" >> source.BeamSource()
                return reads[index]

            try:
                transform_fn = self._analyze(
                    pipeline,
                    inputs,
                    read,
                    preprocessing_fn,
                    typespecs,
                    analysis_tfxio.TensorAdapterConfig(),
                    input_cache_dir,
                    output_cache_dir,
                    stats,
                )
            except Exception as e:
                # tf.Transform traces preprocessing_fn while the pipeline is built.
                raise _trace_error(fn_source, typespecs, e, "building the analysis of") from e

            _ = transform_fn | "WriteTransformFn" >> tft_beam.WriteTransformFn(transform_output)

            if examples_output is not None:
                for n, item in enumerate(inputs):
                    if not item.transform:
                        continue
                    raw = read(n, item)
                    config = (
                        analysis_tfxio if item.analyze else transform_tfxio
                    ).TensorAdapterConfig()
                    transformed, _ = ((raw, config), transform_fn) | (
                        f"Transform[{item.split}]"
                    ) >> tft_beam.TransformDataset(output_record_batches=True)
                    destination = os.path.join(
                        examples_output, f"Split-{item.split}", TRANSFORMED_EXAMPLES_PREFIX
                    )
                    _ = (
                        transformed
                        | f"Encode[{item.split}]" >> beam.ParDo(_EncodeExamples())
                        | f"Write[{item.split}]"
                        >> beam.io.WriteToTFRecord(destination, file_name_suffix=".gz")
                    )

            result = pipeline.run()
            result.wait_until_finish()

        metadata_io.write_metadata(
            dataset_metadata.DatasetMetadata(schema),
            os.path.join(transform_output, tft.TFTransformOutput.RAW_METADATA_DIR),
        )
        stats.cache_entries_read = _counter(result, "cache_entries_decoded")
        stats.cache_entries_written = _counter(result, "cache_entries_encoded")
        return stats

    def _analyze(
        self,
        pipeline: beam.Pipeline,
        inputs: Sequence[_Input],
        read: Callable[[int, _Input], Any],
        preprocessing_fn: Callable[..., Any],
        typespecs: Mapping[str, Any],
        analyze_config: Any,
        input_cache_dir: str | None,
        output_cache_dir: str | None,
        stats: TransformStats,
    ) -> Any:
        """Apply the analysis to ``pipeline``; return the deferred transform_fn.

        Without cache input or output the analyzed splits are flattened into one
        ``AnalyzeDataset``; otherwise each is a dataset of ``AnalyzeDatasetWithCache``, and
        one fully covered by the input cache is not read.
        """
        dataset_keys = [i.dataset_key for i in inputs if i.dataset_key is not None]
        if output_cache_dir is None and input_cache_dir is None:
            data = [read(n, i) for n, i in enumerate(inputs) if i.analyze]
            flat = data[0] if len(data) == 1 else data | "FlattenAnalysis" >> beam.Flatten()
            transform_fn = (flat, analyze_config) | "Analyze" >> tft_beam.AnalyzeDataset(
                preprocessing_fn
            )
            stats.datasets_analyzed = [str(k.key) for k in dataset_keys]
        else:
            input_cache: dict[Any, Any] = {}
            if input_cache_dir is not None:
                entry_keys = tft_beam.analysis_graph_builder.get_analysis_cache_entry_keys(
                    preprocessing_fn, typespecs, dataset_keys, False
                )
                input_cache = pipeline | "ReadCache" >> analyzer_cache.ReadAnalysisCacheFromFS(
                    input_cache_dir,
                    dataset_keys,
                    cache_entry_keys=entry_keys,
                    source=_CacheSource,
                )
            # Which datasets the cache does not cover (one more trace): only worth
            # asking when there is a cache to cover them.
            needed = (
                set(
                    tft_beam.analysis_graph_builder.get_analysis_dataset_keys(
                        preprocessing_fn, typespecs, dataset_keys, input_cache, False
                    )
                )
                if input_cache
                else set(dataset_keys)
            )
            analysis_data: dict[Any, Any] = {}
            for n, item in enumerate(inputs):
                key = item.dataset_key
                if not item.analyze or key is None:
                    continue
                if key in needed:
                    analysis_data[key] = read(n, item)
                    stats.datasets_analyzed.append(str(key.key))
                else:
                    analysis_data[key] = None
                    stats.datasets_from_cache.append(str(key.key))
            transform_fn, cache_output = (
                analysis_data,
                input_cache,
                analyze_config,
            ) | "Analyze" >> tft_beam.AnalyzeDatasetWithCache(preprocessing_fn, pipeline=pipeline)
            if output_cache_dir is not None:
                self._prepare_output_cache(input_cache_dir, output_cache_dir, dataset_keys)
                if cache_output:
                    _write_cache(pipeline, cache_output, output_cache_dir, dataset_keys)
        return transform_fn

    @staticmethod
    def _prepare_output_cache(
        input_cache_dir: str | None,
        output_cache_dir: str,
        dataset_keys: Sequence[analyzer_cache.DatasetKey],
    ) -> None:
        """Start the updated cache from the input cache of this run's datasets.

        Entries of datasets this run does not analyze (an older span, data since changed) are
        dropped, as TFX does, so the cache does not grow without bound. Must run before
        ``WriteAnalysisCacheToFS`` is applied: it merges with the manifests it finds then.
        """
        os.makedirs(output_cache_dir, exist_ok=True)
        if input_cache_dir is None:
            return
        for key in dataset_keys:
            source = os.path.join(input_cache_dir, key.key)
            if os.path.isdir(source):
                shutil.copytree(source, os.path.join(output_cache_dir, key.key), dirs_exist_ok=True)
