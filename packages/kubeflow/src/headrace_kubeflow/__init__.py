"""headrace on Kubeflow Pipelines v2.

``headrace compile PIPELINE --target kubeflow -o pipeline.yaml`` writes a KFP pipeline spec,
one task per node; ``headrace run PIPELINE --orchestrator kubeflow`` runs that spec here
through ``kfp.local``. Importing this package imports no kfp.
"""

from __future__ import annotations

from headrace_kubeflow.__about__ import __version__

__all__ = ["KubeflowRunner", "__version__", "build_pipeline", "compile_pipeline", "run_spec"]


def __getattr__(name: str) -> object:
    # Lazy: `headrace plugins` imports this package, and kfp costs seconds to import.
    if name in ("build_pipeline", "compile_pipeline"):
        from headrace_kubeflow import compiler

        return getattr(compiler, name)
    if name == "KubeflowRunner":
        from headrace_kubeflow.runner import KubeflowRunner

        return KubeflowRunner
    if name == "run_spec":
        from headrace_kubeflow.local import run_spec

        return run_spec
    raise AttributeError(f"module 'headrace_kubeflow' has no attribute {name!r}")
