"""Datasette as `observatory serve` configures it, and requests through its own ASGI test client."""

from __future__ import annotations

import asyncio
from typing import Any

from datasette.app import Datasette

from observatory.serve import build_config, find_metadata
from observatory.serve.config import load_yml
from observatory.settings import Settings


def make_datasette(settings: Settings, host: str = "127.0.0.1") -> Datasette:
    """A Datasette with exactly the configuration `observatory serve` gives its child."""
    config = build_config(load_yml(find_metadata(settings)), settings, host)
    return Datasette([str(settings.projections_db)], metadata=config.metadata, settings=config.settings)


def get(ds: Datasette, path: str, **kw: Any):  # type: ignore[no-untyped-def]
    """One request through Datasette's own ASGI test client."""

    async def go():  # type: ignore[no-untyped-def]
        await ds.invoke_startup()
        return await ds.client.get(path, **kw)

    return asyncio.run(go())


def rows(ds: Datasette, path: str, **kw: Any) -> list[dict[str, Any]]:
    sep = "&" if "?" in path else "?"
    resp = get(ds, f"{path}{sep}_shape=array", **kw)
    assert resp.status_code == 200, resp.text[:500]
    return resp.json()
