"""The model-server process: ``python -m headrace_infravalidator.server MODEL_PATH TAG_SET``.

Loads the SavedModel as a server would (the meta graph of ``TAG_SET``, JSON, default serve),
then answers requests, one JSON line each on standard input: ``{"signature": NAME,
"examples": [base64 serialized tf.Example, ...]}``, each answered on standard output with
``{"ok": true, "outputs": {KEY: SHAPE}}`` or ``{"ok": false, "error": ...}``;
``{"quit": true}`` ends it. The first line it writes says whether the model loaded. Everything
else (TensorFlow's logging included) goes to standard error.
"""

from __future__ import annotations

import base64
import json
import os
import sys
from typing import Any, TextIO

__all__ = ["main"]


def _reply(out: TextIO, message: dict[str, Any]) -> None:
    out.write(json.dumps(message) + "\n")
    out.flush()


def _answer(model: Any, request: dict[str, Any]) -> dict[str, Any]:
    import tensorflow as tf

    name = request.get("signature", "serving_default")
    function = model.signatures.get(name)
    if function is None:
        available = ", ".join(sorted(model.signatures)) or "none"
        return {"ok": False, "error": f"no signature {name!r} (signatures: {available})"}
    _, inputs = function.structured_input_signature
    if len(inputs) != 1:
        return {
            "ok": False,
            "error": f"signature {name!r} takes {len(inputs)} inputs ({', '.join(inputs)}); "
            "canary requests send serialized tf.Examples to a signature with one string input",
        }
    [key] = inputs
    records = [base64.b64decode(r) for r in request.get("examples", [])]
    try:
        outputs = function(**{key: tf.constant(records, dtype=tf.string)})
    except Exception as e:  # the request failed: the model does not serve these examples
        return {"ok": False, "error": f"signature {name!r}: {type(e).__name__}: {e}"[:2000]}
    return {"ok": True, "outputs": {k: list(v.shape) for k, v in sorted(outputs.items())}}


def main(argv: list[str]) -> int:
    path, tag_set = argv[1], json.loads(argv[2]) if len(argv) > 2 else ["serve"]
    # The protocol keeps standard output to itself; library output goes to standard error.
    out = os.fdopen(os.dup(1), "w")
    os.dup2(2, 1)
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "1")
    import tensorflow as tf

    try:
        model = tf.saved_model.load(path, tags=tag_set)
    except Exception as e:  # a model that cannot be loaded is the answer, not a crash
        _reply(out, {"ready": False, "error": f"{type(e).__name__}: {e}"[:2000]})
        return 1
    _reply(out, {"ready": True, "signatures": sorted(model.signatures)})
    for line in sys.stdin:
        request = json.loads(line)
        if request.get("quit"):
            break
        _reply(out, _answer(model, request))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
