"""The blob store: content-addressed, atomic, and batched writes durable at the end."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from loggbok.daemon.store.blobs import BlobStore


def _files(root: Path) -> list[str]:
    return sorted(p.name for p in root.rglob("*") if p.is_file())


def test_put_stores_under_the_sha256_and_is_idempotent(tmp_path: Path) -> None:
    store = BlobStore(tmp_path)
    digest = store.put(b"hello")
    assert digest == hashlib.sha256(b"hello").hexdigest()
    assert store.get(digest) == b"hello"
    assert store.put(b"hello") == digest
    assert _files(tmp_path) == [digest[2:]]


def test_batch_names_files_only_when_it_ends(tmp_path: Path) -> None:
    store = BlobStore(tmp_path)
    payloads = [bytes([i]) * (1000 + i) for i in range(20)]
    with store.batch() as batch:
        digests = [batch.put(p) for p in payloads]
        assert batch.put(payloads[0]) == digests[0]  # a repeat inside the batch
        assert not any(store.path(d).exists() for d in digests)
    assert [store.get(d) for d in digests] == payloads
    assert not [name for name in _files(tmp_path) if name.endswith(".tmp")]


def test_a_failed_batch_leaves_no_files(tmp_path: Path) -> None:
    store = BlobStore(tmp_path)
    with pytest.raises(RuntimeError), store.batch() as batch:
        digest = batch.put(b"half done")
        raise RuntimeError("parse failed")
    assert not store.path(digest).exists()
    assert _files(tmp_path) == []
