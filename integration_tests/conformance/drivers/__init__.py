"""One module per way of running a pipeline; each exposes ``run_pipeline(pipeline_file, root,
workdir) -> Outcome``. A driver whose orchestrator is not available calls ``pytest.skip``."""
