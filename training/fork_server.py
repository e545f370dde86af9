"""Fork server for contract commands: a Python that has imported the heavy libraries once
(scikit-learn, pandas, numpy: about a second of CPU each time a process imports them) and forks a
child for each `$PYTHON script.py …` command, so a command starts in milliseconds.

Started and spoken to by the command launcher (services/runner/launcher-process.mjs):

    python fork_server.py <launcher socket> <module,module,…>

Requests on stdin, events on stdout, one JSON object per line:
    {"op": "run", "id": …, "script": …, "args": […], "cwd": …, "env": {…}}
    → {"ev": "ready"} once, after the imports
    → {"ev": "started", "id": …, "pid": …}, then {"ev": "exited", "id": …, "code": …, "signal": …}

A child runs as a process group of its own. Its stdin, stdout and stderr are three connections
to the launcher's socket, each announced by a line "<id> <fd>". When the launcher goes away,
the child's stdin ends, and a contract command exits. The server exits when its own stdin ends.

It is single-threaded, so a fork never copies a lock that another thread holds. Exits are
collected in the main loop, woken by SIGCHLD through the wakeup fd, so a child is always known
before its exit is read.
"""

import importlib
import io
import json
import os
import runpy
import selectors
import signal
import socket
import sys
import traceback

# Set in the child's environment: the command ran in a forked interpreter.
FORKED_MARK = "RETRAIN_FORK_SERVER"


def main():
    sock_path = sys.argv[1]
    preload = [m for m in (sys.argv[2] if len(sys.argv) > 2 else "").split(",") if m]
    # Events go to a copy of the original stdout; fd 1 becomes stderr, so a stray print in an
    # imported module cannot corrupt the protocol.
    events = os.dup(1)
    os.dup2(2, 1)
    for module in preload:
        try:
            importlib.import_module(module)
        except Exception as err:  # a missing optional library: commands import it themselves
            print(f"fork server: {module} not preloaded: {err}", file=sys.stderr, flush=True)

    wake_r, wake_w = os.pipe()
    os.set_blocking(wake_w, False)
    signal.set_wakeup_fd(wake_w)
    signal.signal(signal.SIGCHLD, lambda *_: None)

    def send(event):
        os.write(events, (json.dumps(event) + "\n").encode())

    children = {}  # pid -> request id
    send({"ev": "ready"})
    selector = selectors.DefaultSelector()
    selector.register(0, selectors.EVENT_READ)
    selector.register(wake_r, selectors.EVENT_READ)
    pending = b""
    while True:
        for key, _ in selector.select():
            if key.fd == wake_r:
                os.read(wake_r, 4096)
                continue
            data = os.read(0, 1 << 16)
            if not data:
                return
            pending += data
            while b"\n" in pending:
                line, pending = pending.split(b"\n", 1)
                if not line.strip():
                    continue
                request = json.loads(line)
                pid = os.fork()
                if pid == 0:
                    try:
                        run_child(request, sock_path, [events, wake_r, wake_w], selector)
                    except BaseException:  # before the command ran: say why, on the server's stderr
                        traceback.print_exc()
                    finally:
                        os._exit(70)
                try:
                    os.setpgid(pid, pid)  # the child does it too: whichever runs first
                except OSError:
                    pass
                children[pid] = request["id"]
                send({"ev": "started", "id": request["id"], "pid": pid})
        reap(children, send)


def reap(children, send):
    while True:
        try:
            pid, status = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return
        request_id = children.pop(pid, None)
        if request_id is None:
            continue
        if os.WIFSIGNALED(status):
            send({"ev": "exited", "id": request_id, "code": None, "signal": signal.Signals(os.WTERMSIG(status)).name})
        else:
            send({"ev": "exited", "id": request_id, "code": os.waitstatus_to_exitcode(status), "signal": None})


def run_child(request, sock_path, server_fds, selector):
    os.setpgid(0, 0)
    signal.set_wakeup_fd(-1)
    # The dispositions a fresh interpreter starts with.
    for sig in (signal.SIGCHLD, signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, signal.SIG_DFL)
    signal.signal(signal.SIGINT, signal.default_int_handler)
    selector.close()
    for fd in server_fds:
        os.close(fd)
    for fd in (0, 1, 2):
        conn = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        conn.connect(sock_path)
        conn.sendall(f"{request['id']} {fd}\n".encode())
        os.dup2(conn.fileno(), fd)
        conn.close()
    # As `python -u` has them (the launcher's commands run with PYTHONUNBUFFERED=1).
    sys.stdin = io.TextIOWrapper(io.FileIO(0, "rb", closefd=False), encoding="utf-8")
    sys.stdout = io.TextIOWrapper(io.FileIO(1, "wb", closefd=False), encoding="utf-8", write_through=True)
    sys.stderr = io.TextIOWrapper(io.FileIO(2, "wb", closefd=False), encoding="utf-8", errors="backslashreplace", write_through=True)
    os.chdir(request["cwd"])
    os.environ.clear()
    os.environ.update(request["env"])
    os.environ[FORKED_MARK] = "1"
    script = request["script"]
    sys.argv = [script, *request["args"]]
    sys.path[0] = os.path.dirname(os.path.abspath(script))
    code = 0
    try:
        open(script, "rb").close()
    except OSError as err:  # as `python script.py` says it, with its exit code
        print(f"{sys.executable}: can't open file {os.path.abspath(script)!r}: [Errno {err.errno}] {err.strerror}", file=sys.stderr)
        os._exit(2)
    try:
        runpy.run_path(script, run_name="__main__")
    except SystemExit as exit_:
        code = exit_code(exit_.code)
    except BaseException:  # as the interpreter does for an uncaught exception
        traceback.print_exc()
        code = 1
    # What a normal interpreter exit runs (logging's flush, temporary files); then leave without
    # unwinding into the server's loop.
    try:
        import atexit

        atexit._run_exitfuncs()
        sys.stdout.flush()
        sys.stderr.flush()
    finally:
        os._exit(code)


def exit_code(code):
    if code is None:
        return 0
    if isinstance(code, int):
        return code & 0xFF
    print(code, file=sys.stderr)
    return 1


if __name__ == "__main__":
    main()
