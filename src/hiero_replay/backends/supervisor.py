"""Runs one backend detached from the orchestrator and records how it ended.

    python -m hiero_replay.backends.supervisor STATUS_FILE LOG_FILE -- ARGV...

The orchestrator starts this in a session of its own, so a crash, SIGKILL or restart of the
orchestrator does not kill a replay that may have hours of work in it: the backend finishes, its
output lines land in LOG_FILE (``O `` stdout, ``E `` stderr), and its exit code lands in
STATUS_FILE (written atomically). A resumed run adopts the segment instead of applying it twice.
SIGTERM reaches the whole process group; the supervisor outlives the backend to record it.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
from pathlib import Path
from typing import IO


def write_status(path: Path, exit_code: int) -> None:
    temporary = path.with_name(path.name + ".tmp")
    with open(temporary, "w", encoding="utf-8") as handle:
        json.dump({"exit_code": exit_code}, handle)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(temporary, path)
    directory = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(directory)
    finally:
        os.close(directory)


def _pump(stream: IO[str], tag: str, log: IO[str], lock: threading.Lock) -> None:
    for line in stream:
        with lock:
            log.write(f"{tag} {line if line.endswith(chr(10)) else line + chr(10)}")
            log.flush()


def supervise(status: Path, log_path: Path, argv: list[str]) -> int:
    with open(log_path, "a", encoding="utf-8") as log:
        try:
            child = subprocess.Popen(
                argv,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
                errors="replace",
                bufsize=1,
            )
        except OSError as error:
            log.write(f"E cannot start {argv[0]}: {error.strerror or error}\n")
            log.flush()
            write_status(status, 127)
            return 127
        # The backend gets the group's SIGTERM too; the supervisor stays to record how it ended.
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        lock = threading.Lock()
        pumps = [
            threading.Thread(target=_pump, args=(child.stdout, "O", log, lock)),
            threading.Thread(target=_pump, args=(child.stderr, "E", log, lock)),
        ]
        for pump in pumps:
            pump.start()
        exit_code = child.wait()
        for pump in pumps:
            pump.join()
    write_status(status, exit_code)
    return exit_code


def main() -> None:
    # Started while the orchestrator held SIGINT/SIGTERM back: take them (and pass them on) again.
    signal.pthread_sigmask(signal.SIG_SETMASK, set())
    arguments = sys.argv[1:]
    if len(arguments) < 4 or arguments[2] != "--":
        sys.exit("usage: python -m hiero_replay.backends.supervisor STATUS_FILE LOG_FILE -- ARGV...")
    sys.exit(supervise(Path(arguments[0]), Path(arguments[1]), arguments[3:]))


if __name__ == "__main__":
    main()
