"""Dies in the middle of a push, as a killed process would: no exception handler, no cleanup.

``python crash_push.py MODEL_DIR BASE_DIRECTORY MODE [N]``, where MODE is

* ``copy N``: exits after copying N files into the staging folder;
* ``rename``: exits when the staging folder holds the whole model, just before it is
  renamed to its version directory;
* ``record``: exits after the rename, before the push record says ``complete``.
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
    elif mode == "rename":

        def die_before_rename(staging: str, target: str) -> None:
            os._exit(17)

        filesystem._publish = die_before_rename
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
