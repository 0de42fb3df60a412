"""Progress on stderr: a bar redrawn in place on a terminal, a plain counter line otherwise."""

from __future__ import annotations

import sys
import threading
from typing import TextIO


class Progress:
    def __init__(self, total: int, label: str, stream: TextIO | None = None, width: int = 30):
        self.total = total
        self.label = label
        self.stream = stream if stream is not None else sys.stderr
        self.width = width
        self.done = 0
        self.tty = bool(getattr(self.stream, "isatty", lambda: False)())
        self._lock = threading.Lock()
        self._step = max(1, total // 10)  # a counter line every 10% when not on a terminal

    def advance(self, note: str = "") -> None:
        with self._lock:
            self.done += 1
            if self.tty:
                filled = self.width * self.done // max(1, self.total)
                bar = "#" * filled + "-" * (self.width - filled)
                self.stream.write(f"\r{self.label} [{bar}] {self.done}/{self.total} {note[:40]:<40}")
            elif self.done % self._step == 0 or self.done == self.total:
                self.stream.write(f"{self.label}: {self.done}/{self.total}\n")
            self.stream.flush()

    def close(self) -> None:
        if self.tty and self.total:
            self.stream.write("\n")
            self.stream.flush()
