"""Game packs: every screen kind declared once, as data (pack.yaml + kinds/*.yaml, format in KINDS.md).

Extraction, the vision schema, correction bounds, the read model and its Datasette description
are all derived from these declarations; outside the packs no code names a kind.
"""
from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path

from . import sources
from .format import EventSpec, FieldSpec, KindDefinition, Pack, ReadModel, TableSpec
from .loader import BUILTIN, PackError, discover

UNKNOWN = "unknown"  # the kind of a screen no pack declares; its only meta is `what`
UNKNOWN_FIELDS = {"what": FieldSpec(type="text", description="what the screen is, e.g. chief profile")}

__all__ = ["EventSpec", "FieldSpec", "KindDefinition", "Pack", "PackError", "ReadModel", "TableSpec", "UNKNOWN",
           "event_tables", "field_spec", "kind", "kinds", "kinds_by", "pack_of", "pack_tables", "packs",
           "ranking_table", "read_model", "shape_of", "sources"]


@lru_cache(maxsize=1)
def packs() -> tuple[Pack, ...]:
    """The packs, loaded and validated once per process (PackError on a broken declaration).

    Read from the environment rather than Settings: kinds are needed at import time, before any settings
    object exists; Settings declares OBSERVATORY_PACKS_DIR too, so `config` and the README show it.
    """
    extra = os.environ.get("OBSERVATORY_PACKS_DIR")
    return tuple(discover([BUILTIN, Path(extra)] if extra else [BUILTIN]))


@lru_cache(maxsize=1)
def kinds() -> dict[str, KindDefinition]:
    """Every declared kind by name, in pack then file order (built once: a settle asks it ~200,000 times)."""
    return {k.name: k for p in packs() for k in p.kinds}


def kind(name: str) -> KindDefinition | None:
    return kinds().get(name)


@lru_cache(maxsize=1)
def _packs_by_kind() -> dict[str, Pack]:
    return {k.name: p for p in packs() for k in p.kinds}


def pack_of(name: str) -> Pack | None:
    return _packs_by_kind().get(name)


def field_spec(kind_name: str, field: str) -> FieldSpec | None:
    """The declared contract of a kind's output field (None when the kind does not have it)."""
    if kind_name == UNKNOWN:
        return UNKNOWN_FIELDS.get(field)
    k, p = kind(kind_name), pack_of(kind_name)
    if k is None or p is None or (field not in k.row_fields() and field not in k.meta_fields()):
        return None
    return p.fields[field]


def read_model(kind_name: str | None) -> ReadModel | None:
    """What a kind's rows mean for the read model (None: the kind is read but not projected)."""
    k = kind(kind_name) if kind_name else None
    return k.read_model if k is not None else None


def shape_of(kind_name: str | None) -> str | None:
    rm = read_model(kind_name)
    return rm.shape if rm is not None else None


def pack_tables() -> dict[str, tuple[Pack, str]]:
    """Every pack-declared read-model table (snapshots' and events'): name -> (its pack, its DDL column list)."""
    out: dict[str, tuple[Pack, str]] = {}
    for p in packs():
        for name in p.tables:
            if name in out:
                raise PackError(f"{p.path}/pack.yaml: table {name}: already declared by {out[name][0].path}")
            out[name] = (p, sources.table_ddl(name, p))
    return out


@lru_cache(maxsize=None)
def kinds_by(shape: str, key: str) -> dict[str, tuple[str, ...]]:
    """The kinds of one shape, grouped by a read-model key (a snapshot's `table`, an event kind's `event`)."""
    out: dict[str, list[str]] = {}
    for name, k in kinds().items():
        rm = k.read_model
        if rm is not None and rm.shape == shape and getattr(rm, key):
            out.setdefault(getattr(rm, key), []).append(name)
    return {group: tuple(names) for group, names in out.items()}


def event_tables() -> list[tuple[str, str, str, str]]:
    """(table, its id column, the id prefix, what one is called) of every pack event, for commands that take an
    event's id."""
    out = []
    for p in packs():
        for name, event in p.events.items():
            spec = p.tables[name]
            col = next((c for c, text in spec.columns.items() if text.strip() == "id"), spec.key[0])
            out.append((name, col, spec.id_prefix or name[0], event.label or name))
    return out


def ranking_table(k: KindDefinition) -> str:
    """The table a `ranking` kind's rows go to."""
    assert k.read_model is not None
    return k.read_model.table or f"{k.name}_entries"
