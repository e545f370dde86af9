"""Process side of the Retrain subprocess contract (CONTRACT.md): exit codes, stdin watchdog,
progress lines, atomic writes. Standard library only, so light scripts start fast."""

import json
import os
import stat
import sys
import tempfile
import threading

EXIT_BAD_INPUT = 2
EXIT_PARENT_GONE = 3


class BadInput(Exception):
    """Unusable request or data: the worker must not retry, so this maps to exit code 2."""


def run(main):
    """Run main(request_path) and turn BadInput into a stderr message and exit code 2."""
    if len(sys.argv) < 2:
        print("usage: %s <request.json>" % os.path.basename(sys.argv[0]), file=sys.stderr)
        sys.exit(EXIT_BAD_INPUT)
    try:
        main(sys.argv[-1])
    except BadInput as error:
        print("bad input: %s" % error, file=sys.stderr)
        sys.exit(EXIT_BAD_INPUT)


def start_watchdog():
    """Exit when the worker closes our stdin, so a dead worker leaves no orphan training.

    Only a pipe or socket means "a parent is holding the other end" (Node's stdio 'pipe' is a
    Unix socket); a terminal or /dev/null must not be mistaken for a dead parent.
    """
    mode = os.fstat(0).st_mode
    if not (stat.S_ISFIFO(mode) or stat.S_ISSOCK(mode)):
        return
    threading.Thread(target=_exit_on_stdin_eof, name="stdin-watchdog", daemon=True).start()


def _exit_on_stdin_eof():
    # os.read rather than sys.stdin: a daemon thread blocked inside the buffered reader can make
    # interpreter shutdown abort while waiting for its lock.
    try:
        while os.read(0, 65536):
            pass
    except OSError:
        pass
    os._exit(EXIT_PARENT_GONE)


def progress(stage, fraction, message=None):
    """Emit one JSON progress line on stdout; the worker turns it into a heartbeat."""
    line = {"stage": stage, "progress": fraction}
    if message:
        line["message"] = message
    print(json.dumps(line), flush=True)


def atomic_write_text(path, text):
    """Write via a temp file in the same directory and rename, so readers never see half a file."""
    directory = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(dir=directory, prefix=".tmp-", suffix="-" + os.path.basename(path))
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
