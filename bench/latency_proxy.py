"""The tests' fault proxy with its latency fault, as a process of its own (so that it does not
share the GIL with the contender being measured): prints its endpoint, then answers commands on
stdin, one per line: ``peak`` prints the most requests it had in flight since the last ``reset``.

    python -m bench.latency_proxy UPSTREAM LATENCY JITTER
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from tests.object_servers import FaultProxy


def main() -> None:
    upstream, latency, jitter = sys.argv[1], float(sys.argv[2]), float(sys.argv[3])
    proxy = FaultProxy(upstream, latency=latency, jitter=jitter, record=False)
    print(proxy.endpoint, flush=True)
    for line in sys.stdin:
        if line.strip() == "peak":
            print(proxy.peak_in_flight, flush=True)
        elif line.strip() == "reset":
            proxy.peak_in_flight = 0
            print("ok", flush=True)
    proxy.stop()


if __name__ == "__main__":
    main()
