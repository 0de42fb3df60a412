"""All-or-nothing writing of several files: a failed run leaves every output as it was."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path


def write_files_atomically(files: dict[Path, str]) -> None:
    """Write every file to a temporary sibling first; only when all are written, rename them in.

    If anything fails before the renames, the temporaries are removed and no output has changed.
    Renames within one folder are atomic, so a reader never sees a half-written file.
    """
    staged: list[tuple[Path, Path]] = []
    try:
        for target, text in files.items():
            target.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
            staged.append((Path(tmp), target))
            with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as handle:
                handle.write(text)
            if target.exists():
                os.chmod(tmp, target.stat().st_mode & 0o777)
            else:
                os.chmod(tmp, 0o644)
    except BaseException:
        for tmp, _ in staged:
            tmp.unlink(missing_ok=True)
        raise
    for tmp, target in staged:
        os.replace(tmp, target)
