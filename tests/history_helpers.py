"""Synthetic histories with saved states along the way, a tampered block, the CLI run as a process,
and a real Dask cluster (scheduler and workers started with the ``dask`` command) on 127.0.0.1."""

from __future__ import annotations

import gzip
import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from hiero_replay.history.store import HistoryStore
from hiero_replay.model.history import HistoryRecord, JobResult
from hiero_replay.simulate.history import History, write_history
from hiero_replay.streams import messages
from hiero_replay.streams.naming import block_file_name

#: Six jobs of ten rounds, the cutover inside the fourth: rounds 10..70, states every 10 rounds,
#: blocks of 5 rounds from round 41 (block 0 = rounds 41..45, block 2 = 51..55, ...).
BOOTSTRAP, CUTOVER, TARGET, EVERY, ROUNDS_PER_BLOCK = 10, 41, 70, 10, 5
JOBS = (TARGET - BOOTSTRAP) // EVERY
#: The job whose input is tampered: rounds 50..60 (blocks 2 and 3; block 2's bytes changed).
TAMPERED_JOB, TAMPERED_BLOCK = 4, 2
CLI = [sys.executable, "-m", "hiero_replay"]


def make_history(root: Path, *, layout: str = "node") -> History:
    return write_history(
        root, bootstrap_round=BOOTSTRAP, cutover_round=CUTOVER, target_round=TARGET,
        rounds_per_block=ROUNDS_PER_BLOCK, saved_every=EVERY, saved_layout=layout,
    )  # fmt: skip


def tamper_block(history: History, number: int) -> Path:
    """Change one byte inside a state change of block ``number``; the file stays well-formed, and the
    next block's footer no longer matches it (a hash mismatch, exit 5)."""
    path = history.blocks_dir / block_file_name(number)
    block = messages.Block.FromString(gzip.decompress(path.read_bytes()))
    items = list(block.items)
    index = next(i for i, raw in enumerate(items) if messages.BlockItem.FromString(raw).WhichOneof("item") == "state_changes")
    item = bytearray(items[index])
    item[-1] ^= 0x01
    items[index] = bytes(item)
    path.write_bytes(gzip.compress(messages.Block(items=items).SerializeToString()))
    return path


def source_flags(history: History) -> list[str]:
    assert history.saved_dir is not None
    return [
        "--simulate", "--events", str(history.events_dir), "--blocks", str(history.blocks_dir),
        "--node-id", "3", "--states", str(history.saved_dir),
    ]  # fmt: skip


def expected_outcomes(tampered: bool = True) -> list[tuple[int, int, int, str, int]]:
    """(index, from round, to round, outcome, exit code) of every job."""
    rows = []
    for index in range(JOBS):
        start = BOOTSTRAP + index * EVERY
        bad = tampered and index == TAMPERED_JOB
        rows.append((index, start, start + EVERY, "mismatch" if bad else "verified", 5 if bad else 0))
    return rows


def outcomes(summary: dict[str, Any]) -> list[tuple[int, int, int, str, int]]:
    return [(j["index"], j["from_round"], j["to_round"], j["outcome"], j["exit_code"]) for j in summary["jobs"]]


def recorded_history(work: Path) -> tuple[HistoryRecord, list[JobResult]]:
    """The one history a work directory's run store holds, and its jobs."""
    store = HistoryStore(work)
    try:
        [record] = store.histories()
        return record, store.jobs(record.id)
    finally:
        store.close()


def run_cli(args: list[str], *, env: dict[str, str] | None = None, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*CLI, *args], capture_output=True, text=True, timeout=timeout, env={**os.environ, **(env or {})})


def summary_of(result: subprocess.CompletedProcess[str]) -> dict[str, Any]:
    try:
        data: dict[str, Any] = json.loads(result.stdout)
    except ValueError as error:
        raise AssertionError(f"no JSON summary (exit {result.returncode}):\n{result.stdout}\n{result.stderr[-3000:]}") from error
    return data


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def dask_command() -> str:
    return str(Path(sys.executable).parent / "dask")


@dataclass
class DaskCluster:
    address: str
    workers: dict[str, subprocess.Popen[bytes]]  # worker address -> its `dask worker` process (own session)
    scheduler: subprocess.Popen[bytes]

    def kill_worker(self, address: str) -> None:
        """SIGKILL every process of the worker's group (nanny, worker and the job process it started)
        but its multiprocessing resource tracker: that one outlives them and unlinks the semaphores
        they held (killed with them, it left 6 in /dev/shm per run)."""
        import psutil

        process = self.workers[address]
        os.killpg(process.pid, signal.SIGSTOP)  # the group stands still: the nanny cannot restart a worker meanwhile
        for member in psutil.process_iter(["cmdline"]):
            try:
                if os.getpgid(member.pid) == process.pid and "resource_tracker" not in " ".join(member.info["cmdline"] or ()):
                    member.kill()
            except (ProcessLookupError, psutil.NoSuchProcess):
                continue
        os.killpg(process.pid, signal.SIGCONT)  # the tracker goes on
        process.wait()


def _wait_for_workers(address: str, count: int, timeout: float = 90) -> None:
    from distributed import Client

    deadline = time.monotonic() + timeout
    with Client(address, timeout=timeout) as client:
        while len(client.scheduler_info()["workers"]) < count:
            if time.monotonic() > deadline:
                raise AssertionError(f"only {len(client.scheduler_info()['workers'])} of {count} Dask workers came up")
            time.sleep(0.2)


@contextmanager
def dask_cluster(folder: Path, workers: int = 2, env: dict[str, str] | None = None) -> Iterator[DaskCluster]:
    """``dask scheduler --host 127.0.0.1 --port P`` and ``dask worker tcp://127.0.0.1:P --nworkers 1
    --nthreads 1`` (each on a known port), stopped at the end."""
    folder.mkdir(parents=True, exist_ok=True)
    port = free_port()
    address = f"tcp://127.0.0.1:{port}"
    environment = {**os.environ, **(env or {})}
    options: dict[str, Any] = {"cwd": folder, "env": environment, "start_new_session": True, "stderr": subprocess.STDOUT}
    logs = ExitStack()
    scheduler = subprocess.Popen(
        [dask_command(), "scheduler", "--host", "127.0.0.1", "--port", str(port), "--dashboard-address", ":0", "--no-show"],
        stdout=logs.enter_context(open(folder / "scheduler.log", "wb")), **options,  # noqa: SIM115 - closed by the stack
    )  # fmt: skip
    started: dict[str, subprocess.Popen[bytes]] = {}
    try:
        for number in range(workers):
            worker_port = free_port()
            started[f"tcp://127.0.0.1:{worker_port}"] = subprocess.Popen(
                [dask_command(), "worker", address, "--nworkers", "1", "--nthreads", "1", "--host", "127.0.0.1",
                 "--worker-port", str(worker_port), "--dashboard-address", ":0", "--name", f"w{number}"],
                stdout=logs.enter_context(open(folder / f"worker-{number}.log", "wb")), **options,  # noqa: SIM115 - closed by the stack
            )  # fmt: skip
        _wait_for_workers(address, workers)
        yield DaskCluster(address, started, scheduler)
    finally:
        for process in [*started.values(), scheduler]:
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
        for process in [*started.values(), scheduler]:
            try:
                process.wait(20)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()
        logs.close()
