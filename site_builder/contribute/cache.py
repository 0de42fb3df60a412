"""An on-disk cache of JSON records, keyed by a string (usually ``METHOD URL``), with an age limit.

One file per key (named by the key's SHA-256) under the cache folder, written atomically, so
concurrent threads and interrupted runs never leave a half-written entry. A record that cannot be
read is treated as missing: the cache only ever saves work, it never fails a command.
"""

from __future__ import annotations

import hashlib
import json
import os
import time
from pathlib import Path
from typing import Any

from .files import replace_file


def default_cache_dir() -> Path:
    """``$SITE_BUILDER_CACHE``, else ``~/.cache/site_builder``."""
    configured = os.environ.get("SITE_BUILDER_CACHE")
    return Path(configured).expanduser() if configured else Path.home() / ".cache" / "site_builder"


class DiskCache:
    def __init__(self, folder: Path | None, *, enabled: bool = True, refresh: bool = False):
        self.folder = folder or Path()
        self.enabled = enabled and folder is not None
        self.refresh = refresh  # write new answers but never read old ones

    def _path(self, key: str) -> Path:
        digest = hashlib.sha256(key.encode("utf-8")).hexdigest()
        return self.folder / digest[:2] / f"{digest}.json"

    def get(self, key: str, max_age: float) -> dict[str, Any] | None:
        """The record stored under ``key`` if it is younger than ``max_age`` seconds."""
        if not self.enabled or self.refresh or max_age <= 0:
            return None
        try:
            record = json.loads(self._path(key).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        if not isinstance(record, dict) or record.get("key") != key:
            return None
        stored = record.get("stored_at")
        if not isinstance(stored, (int, float)) or time.time() - stored > max_age:
            return None
        value = record.get("value")
        return value if isinstance(value, dict) else None

    def put(self, key: str, value: dict[str, Any]) -> None:
        if not self.enabled:
            return
        record = {"key": key, "stored_at": time.time(), "value": value}
        try:
            replace_file(self._path(key), json.dumps(record, ensure_ascii=False))
        except OSError:
            pass  # a read-only or full disk costs a re-fetch next time, nothing more
