"""Worker processes racing for one claims table (SQLite file or PostgreSQL URL): what each of them took."""

from __future__ import annotations

import multiprocessing

from observatory.eventlog.claims import Claim, PostgresClaims, SqliteClaims


def claims_for(n: int) -> list[Claim]:
    return [Claim(f"{i:064x}", f"blobs/{i:02x}/{i:064x}.png") for i in range(n)]


def _board(location: str):  # type: ignore[no-untyped-def]
    if location.startswith("postgresql://"):
        return PostgresClaims(location, lease_seconds=3600)
    return SqliteClaims(location, lease_seconds=3600)


def _take_all(location: str, worker: str, batch: int, out) -> None:  # type: ignore[no-untyped-def]
    board = _board(location)
    got = []
    while taken := board.take(worker, batch):
        got += [c.key for c in taken]
    board.close()
    out.put(got)


def race(location: str, *, workers: int, batch: int, timeout: float) -> list[str]:
    """Every key the `workers` processes took, each taking `batch` at a time until none is left."""
    ctx = multiprocessing.get_context("spawn")
    out = ctx.Queue()
    procs = [ctx.Process(target=_take_all, args=(location, f"w{i}", batch, out)) for i in range(workers)]
    for p in procs:
        p.start()
    try:
        got = [out.get(timeout=timeout) for _ in procs]
    finally:
        for p in procs:
            p.join(10)
            if p.is_alive():
                p.kill()
    return [k for g in got for k in g]
