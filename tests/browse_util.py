"""Shared plumbing of the browser's tests: Go's record of the Bacalhau sample,
flattened to rows per bucket path, and a driver for Textual's test pilot."""

from __future__ import annotations

import asyncio
import json
import subprocess
from collections.abc import Awaitable, Callable
from pathlib import Path

from pybbolt.cli.browse_app import BrowseApp
from textual.pilot import Pilot

from pybbolt.decode import Decoder, DecoderError

from .conftest import FIXTURES

SAMPLE = FIXTURES / "bacalhau_compute.db"
SIZE = (120, 36)

Rows = list[tuple[bytes, bytes | None]]


def go_rows(boltgo: Path, db: Path = SAMPLE) -> dict[tuple[bytes, ...], Rows]:
    """Rows of every bucket path of ``db`` as Go's cursor gives them (the
    root's rows are the top-level bucket names, value None for a bucket)."""
    proc = subprocess.Popen([str(boltgo), "cursor", str(db)], stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, text=True)
    assert proc.stdin is not None and proc.stdout is not None
    out: dict[tuple[bytes, ...], Rows] = {}
    try:
        def walk(path: tuple[bytes, ...]) -> None:
            ops = [["first"], *[["next"]] * 2000]
            assert proc.stdin is not None and proc.stdout is not None
            proc.stdin.write(json.dumps({"path": [p.hex() for p in path], "ops": ops}) + "\n")
            proc.stdin.flush()
            results = json.loads(proc.stdout.readline())["results"]
            end = results.index(None) if None in results else len(results)
            assert end < len(results), "a bucket of the sample holds more than 2000 keys"
            rows: Rows = [(bytes.fromhex(k), None if v is None else bytes.fromhex(v))
                          for k, v in results[:end]]
            out[path] = rows
            for key, value in rows:
                if value is None:
                    walk((*path, key))

        walk(())
    finally:
        proc.stdin.close()
        proc.wait(timeout=30)
    return out


def drive(app: BrowseApp, script: Callable[[Pilot[None]], Awaitable[None]]) -> None:
    """Run ``app`` headless at a fixed size and play ``script`` on it."""

    async def main() -> None:
        async with app.run_test(size=SIZE) as pilot:
            await pilot.pause()
            await script(pilot)

    asyncio.run(main())


async def wait_for(pilot: Pilot[None], condition: Callable[[], bool], seconds: float = 20) -> None:
    """Let the app run until ``condition`` holds (a worker's results, say)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + seconds
    while not condition():
        assert loop.time() < deadline, "timed out waiting for the app"
        await pilot.pause(0.05)


def _standin_value(value: bytes, key: bytes, path: object) -> object:
    if path != (b"logs",):
        raise DecoderError("not a log entry")
    return {"index": int.from_bytes(key, "big"), "bytes": len(value)}


# A stand-in for a decoder of raft-boltdb files (tests register it as "raft").
RAFT_STANDIN = Decoder("raft", _standin_value)
