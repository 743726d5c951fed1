"""Opening an SQLite store imports ml_metadata without grpc; the gRPC client still works."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import textwrap
from pathlib import Path


def _run(code: str) -> dict[str, object]:
    out = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        check=True,
        capture_output=True,
        text=True,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])  # type: ignore[no-any-return]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_an_sqlite_store_imports_no_grpc(tmp_path: Path) -> None:
    result = _run(
        f"""
        import json, sys
        from headrace_core.metadata import MetadataStore
        store = MetadataStore("sqlite:///{tmp_path}/metadata.sqlite")
        store.raw.get_artifacts()
        print(json.dumps({{"grpc": sorted(m for m in sys.modules if m.split(".")[0] == "grpc")}}))
        """
    )
    assert result == {"grpc": []}


def test_grpc_imported_later_is_the_real_module(tmp_path: Path) -> None:
    """After the store is open, ``import grpc`` anywhere gets grpc itself; ml_metadata's
    stand-in hands its attributes over."""
    result = _run(
        f"""
        import json, sys
        from headrace_core.metadata import MetadataStore
        MetadataStore("sqlite:///{tmp_path}/metadata.sqlite")
        import grpc
        from grpc import aio
        from ml_metadata.metadata_store import metadata_store as mlmd
        print(json.dumps({{
            "real": type(grpc).__name__ == "module" and hasattr(grpc, "insecure_channel"),
            "aio": aio.__name__,
            "same_channel": mlmd.grpc.insecure_channel is grpc.insecure_channel,
            "same_error": mlmd.grpc.RpcError is grpc.RpcError,
        }}))
        """
    )
    assert result == {"real": True, "aio": "grpc.aio", "same_channel": True, "same_error": True}


def test_the_grpc_client_config_still_works(tmp_path: Path) -> None:
    """An MLMD gRPC client (MetadataStoreClientConfig) opened after an SQLite store: the
    channel is made through the stand-in, and a call to a server that is not there fails with
    ml_metadata's own error, translated from grpc.RpcError."""
    port = _free_port()
    result = _run(
        f"""
        import json
        from headrace_core.metadata import MetadataStore
        MetadataStore("sqlite:///{tmp_path}/metadata.sqlite")
        from ml_metadata import errors
        from ml_metadata.metadata_store import metadata_store as mlmd
        from ml_metadata.proto import metadata_store_pb2 as pb
        config = pb.MetadataStoreClientConfig(host="127.0.0.1", port={port})
        config.client_timeout_sec = 2
        client = mlmd.MetadataStore(config)
        try:
            client.get_artifact_types()
            raised = None
        except errors.StatusError as e:
            raised = type(e).__name__
        print(json.dumps({{"raised": raised}}))
        """
    )
    assert result["raised"] in ("UnavailableError", "DeadlineExceededError")


def test_grpc_imported_first_is_left_alone(tmp_path: Path) -> None:
    result = _run(
        f"""
        import json
        import grpc
        from headrace_core.metadata import MetadataStore
        MetadataStore("sqlite:///{tmp_path}/metadata.sqlite")
        from ml_metadata.metadata_store import metadata_store as mlmd
        print(json.dumps({{"same": mlmd.grpc is grpc}}))
        """
    )
    assert result == {"same": True}
