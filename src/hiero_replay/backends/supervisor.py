"""Runs one backend detached from the orchestrator and records how it ended.

    python -I -S .../hiero_replay/backends/supervisor.py STATUS_FILE LOG_FILE -- ARGV...
    python -m hiero_replay.backends.supervisor STATUS_FILE LOG_FILE -- ARGV...

The orchestrator starts this in a session of its own, so a crash, SIGKILL or restart of the
orchestrator does not kill a replay that may have hours of work in it: the backend finishes, its
output lines land in LOG_FILE (``O `` stdout, ``E `` stderr), and its exit code lands in
STATUS_FILE (written atomically). A resumed run adopts the segment instead of applying it twice.
SIGTERM reaches the whole process group; the supervisor outlives the backend to record it.

It starts once per segment, so it is kept tiny: the standard library's ``os``, ``sys``, ``select``
and ``_signal`` only (``tests/test_supervisor.py`` checks), run by its path without ``site``. It
blocks on the backend's two pipes and then on ``waitpid``; nothing polls on a timer.
"""

import _signal  # type: ignore[import-not-found]  # the C module alone: ``signal`` would also import enum, functools and more
import os
import select
import sys

_READ_CHUNK = 65536


def write_status(path: str, exit_code: int) -> None:
    """``{"exit_code": N}``, written to a temporary name and renamed into place: never torn. Not
    synced: after a power loss that took it, the segment is run again (its output is discarded),
    which costs less than two syncs on every segment of every run."""
    temporary = path + ".tmp"
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_CLOEXEC, 0o644)
    try:
        os.write(descriptor, b'{"exit_code": %d}' % exit_code)
    finally:
        os.close(descriptor)
    os.replace(temporary, path)


def _tagged(tag: bytes, lines: list[bytes]) -> bytes:
    return b"".join(tag + b" " + line.removesuffix(b"\r") + b"\n" for line in lines)


def _pump(pipes: dict[int, bytes], log: int) -> None:
    """Copy the backend's stdout and stderr into the log, a whole line at a time, until both close."""
    partial = {descriptor: b"" for descriptor in pipes}
    poller = select.poll()
    for descriptor in pipes:
        poller.register(descriptor, select.POLLIN)
    while partial:
        for descriptor, _ in poller.poll():
            chunk = os.read(descriptor, _READ_CHUNK)
            tag = pipes[descriptor]
            if not chunk:
                if partial[descriptor]:
                    os.write(log, _tagged(tag, [partial[descriptor]]))
                poller.unregister(descriptor)
                os.close(descriptor)
                del partial[descriptor]
                continue
            *complete, partial[descriptor] = (partial[descriptor] + chunk).split(b"\n")
            if complete:
                os.write(log, _tagged(tag, complete))


def supervise(status: str, log_path: str, argv: list[str]) -> int:
    log = os.open(log_path, os.O_WRONLY | os.O_CREAT | os.O_APPEND | os.O_CLOEXEC, 0o644)
    try:
        out_read, out_write = os.pipe()
        err_read, err_write = os.pipe()
        null = os.open(os.devnull, os.O_RDONLY | os.O_CLOEXEC)
        actions = [
            (os.POSIX_SPAWN_DUP2, null, 0),
            (os.POSIX_SPAWN_DUP2, out_write, 1),
            (os.POSIX_SPAWN_DUP2, err_write, 2),
        ]
        try:
            child = os.posix_spawnp(argv[0], argv, os.environ, file_actions=actions)
        except OSError as error:
            os.write(log, b"E cannot start %s: %s\n" % (os.fsencode(argv[0]), (error.strerror or str(error)).encode()))
            write_status(status, 127)
            return 127
        finally:
            for descriptor in (null, out_write, err_write):
                os.close(descriptor)
        # The backend gets the group's SIGTERM too; the supervisor stays to record how it ended.
        _signal.signal(_signal.SIGTERM, _signal.SIG_IGN)
        _signal.signal(_signal.SIGINT, _signal.SIG_IGN)
        _pump({out_read: b"O", err_read: b"E"}, log)
        _, wait_status = os.waitpid(child, 0)
        exit_code = os.waitstatus_to_exitcode(wait_status)
    finally:
        os.close(log)
    write_status(status, exit_code)
    return exit_code


def main() -> None:
    # Started while the orchestrator held SIGINT/SIGTERM back: take them (and pass them on) again.
    _signal.pthread_sigmask(_signal.SIG_SETMASK, set())
    arguments = sys.argv[1:]
    if len(arguments) < 4 or arguments[2] != "--":
        sys.exit("usage: supervisor.py STATUS_FILE LOG_FILE -- ARGV...")
    sys.exit(supervise(arguments[0], arguments[1], arguments[3:]))


if __name__ == "__main__":
    main()
