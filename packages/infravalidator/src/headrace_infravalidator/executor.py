"""``InfraValidator``'s executor: the model loaded and queried in a server process of its own.

Each try starts ``python -m headrace_infravalidator.server`` (see there for the protocol),
waits for the model to load within ``max_loading_time_seconds``, sends the canary requests
and stops the process. A try fails when the model does not load, loads too slowly, a request
fails, or the process dies; the model is blessed when a try succeeds within ``num_tries``.
Writes TFX's ``INFRA_BLESSED`` / ``INFRA_NOT_BLESSED`` marker, ``infra_validation.json`` (every
try, with its reason) and the ``blessed`` custom property; with ``request_spec.make_warmup``
and a blessed model, also TFX's ``stamped_model/`` (see :mod:`headrace_infravalidator.warmup`).
"""

from __future__ import annotations

import base64
import json
import logging
import os
import selectors
import subprocess
import sys
import time
from typing import IO, Any

from headrace_core import Artifact, BaseExecutor
from headrace_core.artifacts import BLESSED_KEY, serving_model_path
from headrace_core.executor import json_property, single_input, split_files_pattern, split_names
from headrace_infravalidator.errors import InfraValidatorError
from headrace_infravalidator.specs import (
    DEFAULT_MAX_LOADING_TIME_SECONDS,
    DEFAULT_NUM_TRIES,
    normalize_request_spec,
    normalize_serving_spec,
    normalize_validation_spec,
)

__all__ = ["BLESSED_FILE", "HAS_MODEL_KEY", "NOT_BLESSED_FILE", "REPORT_FILE", "Executor"]

log = logging.getLogger(__name__)

BLESSED_FILE = "INFRA_BLESSED"
NOT_BLESSED_FILE = "INFRA_NOT_BLESSED"
REPORT_FILE = "infra_validation.json"
#: TFX's custom property of a blessing that holds a stamped model (the Pusher checks it).
HAS_MODEL_KEY = "has_model"
_COMPONENT = "InfraValidator"
_REQUEST_SECONDS = 120


class _TryFailedError(Exception):
    pass


def _canary_records(examples: Artifact, request_spec: dict[str, Any]) -> list[bytes]:
    """The first ``num_examples`` serialized examples of the request split."""
    import tensorflow as tf

    names = split_names(examples, component=_COMPONENT, role="examples")
    split = request_spec.get("split_name") or ("eval" if "eval" in names else names[0])
    if split not in names:
        raise InfraValidatorError(
            f"InfraValidator: request_spec.split_name {split!r} is not a split of examples "
            f"{examples.uri} (splits: {', '.join(names)})"
        )
    pattern = split_files_pattern(examples, split, component=_COMPONENT, error=InfraValidatorError)
    files = sorted(tf.io.gfile.glob(pattern))
    compression = "GZIP" if all(f.endswith(".gz") for f in files) else ""
    count = request_spec.get("num_examples", 1)
    dataset = tf.data.TFRecordDataset(files, compression_type=compression).take(count)
    records = [bytes(r.numpy()) for r in dataset]
    if not records:
        raise InfraValidatorError(f"InfraValidator: split {split!r} of {examples.uri} is empty")
    return records


def _read_line(stream: IO[str], seconds: float, what: str) -> dict[str, Any]:
    selector = selectors.DefaultSelector()
    selector.register(stream, selectors.EVENT_READ)
    try:
        if not selector.select(timeout=seconds):
            raise _TryFailedError(f"{what}: no answer within {seconds:.0f} s")
    finally:
        selector.close()
    line = stream.readline()
    if not line:
        raise _TryFailedError(f"{what}: the server process ended")
    answer: dict[str, Any] = json.loads(line)
    return answer


def _log_tail(path: str, limit: int = 1500) -> str:
    try:
        with open(path, encoding="utf-8", errors="replace") as f:
            text = f.read()
    except OSError:
        return ""
    return text[-limit:].strip()


def _try_once(
    model_path: str,
    tag_set: list[str],
    load_seconds: int,
    requests: list[dict[str, Any]],
    log_path: str,
) -> dict[str, Any]:
    started = time.monotonic()
    with open(log_path, "a", encoding="utf-8") as server_log:
        server = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "headrace_infravalidator.server",
                model_path,
                json.dumps(tag_set),
            ],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=server_log,
            text=True,
            start_new_session=True,
        )
    assert server.stdin is not None and server.stdout is not None
    try:
        ready = _read_line(server.stdout, load_seconds, "loading the model")
        if not ready.get("ready"):
            raise _TryFailedError(f"the model did not load: {ready.get('error')}")
        loaded = time.monotonic() - started
        for request in requests:
            server.stdin.write(json.dumps(request) + "\n")
            server.stdin.flush()
            what = f"the request to {request['signature']!r}"
            answer = _read_line(server.stdout, _REQUEST_SECONDS, what)
            if not answer.get("ok"):
                raise _TryFailedError(f"{what} failed: {answer.get('error')}")
        server.stdin.write(json.dumps({"quit": True}) + "\n")
        server.stdin.flush()
        server.wait(timeout=60)
        return {"ok": True, "load_seconds": round(loaded, 2), "requests": len(requests)}
    except (_TryFailedError, BrokenPipeError, OSError, subprocess.TimeoutExpired) as e:
        reason = str(e) or type(e).__name__
        if server.poll() is not None and server.returncode not in (0, 1):
            reason += f" (the server process exited with {server.returncode})"
        tail = _log_tail(log_path)
        return {"ok": False, "reason": reason, **({"server_log_tail": tail} if tail else {})}
    finally:
        if server.poll() is None:
            server.kill()
            server.wait()


def _stamp_model(
    model_path: str,
    tag_set: list[str],
    requests: list[dict[str, Any]],
    records: list[bytes],
    serving_spec: dict[str, Any],
    blessing: Artifact,
) -> dict[str, Any]:
    from headrace_infravalidator.warmup import (
        DEFAULT_MODEL_NAME,
        STAMPED_MODEL_DIR,
        WARMUP_FILE,
        prediction_logs,
        write_stamped_model,
    )

    logs = prediction_logs(
        model_path,
        tag_set,
        [r["signature"] for r in requests],
        records,
        serving_spec.get("model_name") or DEFAULT_MODEL_NAME,
    )
    try:
        path = write_stamped_model(model_path, blessing.uri, logs)
    except OSError as e:
        raise InfraValidatorError(
            f"InfraValidator: make_warmup: cannot write {STAMPED_MODEL_DIR} into "
            f"{blessing.uri}: {e}"
        ) from e
    log.info("InfraValidator: %d warm-up request(s) in %s", len(logs), path)
    return {"path": STAMPED_MODEL_DIR, "warmup_file": WARMUP_FILE, "warmup_requests": len(logs)}


class Executor(BaseExecutor):
    """Loads and queries the model in a server process; blesses it if a try succeeds."""

    def Do(  # noqa: N802 - TFX's method name
        self,
        input_dict: dict[str, list[Artifact]],
        output_dict: dict[str, list[Artifact]],
        exec_properties: dict[str, Any],
    ) -> None:
        error = InfraValidatorError
        model = single_input(input_dict, "model", component=_COMPONENT, error=error)
        examples = single_input(
            input_dict, "examples", component=_COMPONENT, optional=True, error=error
        )
        blessing = single_input(
            output_dict, "blessing", component=_COMPONENT, what="output", error=error
        )
        serving_spec = normalize_serving_spec(
            json_property(exec_properties, "serving_spec", component=_COMPONENT, error=error)
        )
        validation = normalize_validation_spec(
            json_property(exec_properties, "validation_spec", component=_COMPONENT, error=error)
        )
        request_spec = normalize_request_spec(
            json_property(exec_properties, "request_spec", component=_COMPONENT, error=error)
        )

        requests: list[dict[str, Any]] = []
        records: list[bytes] = []
        tag_set = ["serve"]
        if request_spec is not None:
            if examples is None:
                raise InfraValidatorError(
                    "InfraValidator: request_spec asks for canary requests, but input "
                    "'examples' is not given; wire it to an ExampleGen's examples"
                )
            serving = request_spec["tensorflow_serving"]
            tag_set = serving.get("tag_set") or tag_set
            records = _canary_records(examples, request_spec)
            encoded = [base64.b64encode(r).decode("ascii") for r in records]
            requests = [
                {"signature": name, "examples": encoded}
                for name in serving.get("signature_names") or ["serving_default"]
            ]
        model_path = serving_model_path(model)
        load_seconds = validation.get("max_loading_time_seconds", DEFAULT_MAX_LOADING_TIME_SECONDS)
        tries = validation.get("num_tries", DEFAULT_NUM_TRIES)

        os.makedirs(blessing.uri, exist_ok=True)
        log_path = os.path.join(self._get_tmp_dir(), "model_server.log")
        attempts: list[dict[str, Any]] = []
        if not os.path.isfile(os.path.join(model_path, "saved_model.pb")):
            # Nothing to serve: no try can succeed.
            attempts.append({"ok": False, "reason": f"no saved_model.pb in {model_path}"})
        else:
            for number in range(1, tries + 1):
                outcome = _try_once(model_path, tag_set, load_seconds, requests, log_path)
                attempts.append(outcome)
                if outcome["ok"]:
                    break
                log.warning(
                    "InfraValidator: try %d/%d failed: %s", number, tries, outcome["reason"]
                )
        blessed = attempts[-1]["ok"]
        stamped = None
        if blessed and requests and request_spec is not None and request_spec.get("make_warmup"):
            # Before the marker: a blessing that says INFRA_BLESSED holds the model it promised.
            stamped = _stamp_model(model_path, tag_set, requests, records, serving_spec, blessing)
        with open(os.path.join(blessing.uri, BLESSED_FILE if blessed else NOT_BLESSED_FILE), "w"):
            pass
        report = {
            "blessed": blessed,
            "model": model.uri,
            "model_id": model.id,
            "served_by": "a local model-server process (headrace_infravalidator.server)",
            "serving_spec": serving_spec,
            "tag_set": tag_set,
            "requests": [
                {"signature": r["signature"], "examples": len(r["examples"])} for r in requests
            ],
            "tries": attempts,
            **({"stamped_model": stamped} if stamped is not None else {}),
        }
        with open(os.path.join(blessing.uri, REPORT_FILE), "w", encoding="utf-8") as f:
            json.dump(report, f, indent=2, sort_keys=True)
        blessing.set_custom_property(BLESSED_KEY, 1 if blessed else 0)
        if stamped is not None:
            blessing.set_custom_property(HAS_MODEL_KEY, 1)
        if blessed:
            log.info(
                "InfraValidator: INFRA_BLESSED: %s loaded in %.1f s and answered %d request(s)",
                model_path,
                attempts[-1]["load_seconds"],
                len(requests),
            )
        else:
            log.warning(
                "InfraValidator: INFRA_NOT_BLESSED after %d tries: %s",
                len(attempts),
                attempts[-1]["reason"],
            )
