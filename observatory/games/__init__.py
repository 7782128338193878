"""Game packs: every screen kind declared once, as data (pack.yaml + kinds/*.yaml, format in KINDS.md).

Extraction, the vision schema, correction bounds, the read model and its Datasette description
are all derived from these declarations; outside the packs no code names a kind.
"""
from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path

from .format import FieldSpec, KindDefinition, Pack, ReadModel
from .loader import BUILTIN, PackError, discover

UNKNOWN = "unknown"  # the kind of a screen no pack declares; its only meta is `what`
UNKNOWN_FIELDS = {"what": FieldSpec(type="text", description="what the screen is, e.g. chief profile")}

__all__ = ["FieldSpec", "KindDefinition", "Pack", "PackError", "ReadModel", "UNKNOWN", "field_spec", "kind", "kinds",
           "pack_of", "packs", "ranking_table", "read_model", "shape_of"]


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


def pack_of(name: str) -> Pack | None:
    return next((p for p in packs() if any(k.name == name for k in p.kinds)), None)


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


def ranking_table(k: KindDefinition) -> str:
    """The table a `ranking` kind's rows go to."""
    assert k.read_model is not None
    return k.read_model.table or f"{k.name}_entries"
