"""Dies in the middle of a push, as a killed process would: no exception handler, no cleanup.

``python crash_push.py MODEL_DIR BASE_DIRECTORY copy N`` exits after copying N files of the
version directory; ``... record`` exits after saved_model.pb is in place but before the push
record says ``complete``.
"""

from __future__ import annotations

import os
import sys

from headrace_pusher import filesystem


def main() -> None:
    model_dir, base_directory, mode = sys.argv[1:4]
    if mode == "copy":
        limit = int(sys.argv[4])
        real_copy = filesystem._copy_file
        copied = []

        def copy_then_die(source: str, target: str) -> None:
            if len(copied) == limit:
                os._exit(17)
            real_copy(source, target)
            copied.append(target)

        filesystem._copy_file = copy_then_die
    elif mode == "record":
        real_write = filesystem._write_record

        def write_then_die(base: str, record: filesystem.PushRecord) -> None:
            if record.state == filesystem.COMPLETE:
                os._exit(17)
            real_write(base, record)

        filesystem._write_record = write_then_die
    else:
        raise SystemExit(f"unknown mode {mode!r}")
    filesystem.push_saved_model(model_dir, base_directory)
    raise SystemExit("the push finished; it was meant to die")


if __name__ == "__main__":
    main()
