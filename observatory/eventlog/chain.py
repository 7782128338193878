"""How one row is chained to the previous one: the two hash schemes of the log.

`row_hash` (sha256) is what logs written before keying used; anyone can recompute
it, so it proves nothing against someone who can rewrite the file. `keyed_hash`
(HMAC-SHA256 with a key kept outside the database) cannot be recomputed without
the key. Both cover the previous row's hash and every stored column but `hash`.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Sequence
from typing import Any

GENESIS_HASH = "0" * 64

KEY_ID_LABEL = b"observatory event log key id"


def _canonical(prev_hash: str, row: Sequence[Any]) -> bytes:
    return (prev_hash + json.dumps(list(row), ensure_ascii=False, separators=(",", ":"))).encode("utf-8")


def row_hash(prev_hash: str, row: Sequence[Any]) -> str:
    """The unkeyed scheme: sha256 over the previous hash and the row's stored columns."""
    return hashlib.sha256(_canonical(prev_hash, row)).hexdigest()


def keyed_hash(key: bytes, prev_hash: str, row: Sequence[Any]) -> str:
    """The keyed scheme: HMAC-SHA256 of the same bytes."""
    return hmac.new(key, _canonical(prev_hash, row), hashlib.sha256).hexdigest()


def key_id(key: bytes) -> str:
    """A fingerprint that names a key without revealing it, so a wrong or lost key is told apart from tampering."""
    return hmac.new(key, KEY_ID_LABEL, hashlib.sha256).hexdigest()[:16]


def link(prev_hash: str, row: Sequence[Any], *, seq: int, keyed_from: int | None, key: bytes | None) -> str:
    """The hash row `seq` must carry: keyed from `keyed_from` on, unkeyed before (or when the log was never keyed)."""
    if keyed_from is not None and seq >= keyed_from:
        if key is None:
            raise ValueError("a keyed row needs the key")
        return keyed_hash(key, prev_hash, row)
    return row_hash(prev_hash, row)
