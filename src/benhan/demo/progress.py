"""A dependency-free progress bar for long CLI runs (a redrawn line on a terminal, periodic lines otherwise)."""

from __future__ import annotations

import sys
import time
from typing import TextIO


class Progress:
    def __init__(self, total: int, label: str = "bệnh nhân / patients", stream: TextIO | None = None,
                 clock: object = time.monotonic) -> None:
        self.total = max(total, 1)
        self.label = label
        self.stream = stream if stream is not None else sys.stderr
        self._clock = clock
        self.started = self._now()
        self.done = 0
        self.resources = 0
        self._last_draw = 0.0
        self._last_decile = -1
        self.tty = bool(getattr(self.stream, "isatty", lambda: False)())

    def _now(self) -> float:
        return self._clock()  # type: ignore[operator]

    def update(self, patients: int, resources: int) -> None:
        self.done += patients
        self.resources += resources
        now = self._now()
        decile = self.done * 10 // self.total
        if self.tty and (now - self._last_draw >= 0.2 or self.done >= self.total):
            self._last_draw = now
            self.stream.write("\r" + self.line(now))
            self.stream.flush()
        elif not self.tty and decile != self._last_decile:
            self._last_decile = decile
            self.stream.write(self.line(now) + "\n")
            self.stream.flush()

    def line(self, now: float | None = None) -> str:
        now = self._now() if now is None else now
        elapsed = max(now - self.started, 1e-9)
        share = self.done / self.total
        width = 30
        filled = int(width * share)
        rate = self.resources / elapsed
        eta = (elapsed / share - elapsed) if share > 0 else 0.0
        return (f"[{'#' * filled}{'.' * (width - filled)}] {share:4.0%} {self.done:,}/{self.total:,} {self.label}"
                f" · {self.resources:,} tài nguyên · {rate:,.0f}/s · còn {int(eta) // 60}:{int(eta) % 60:02d}")

    def finish(self) -> float:
        """End the line; return the elapsed seconds."""
        if self.tty:
            self.stream.write("\n")
            self.stream.flush()
        return self._now() - self.started
