"""Personal data stays out of the application's logs, including tracebacks.

What we log ourselves names only a method and a resource type (``fhir/asgi.py``), and ``benhan serve``
turns uvicorn's access log off (it would print query strings: names, CCCD numbers). The remaining way
in is an exception's *message*: a database error quotes the statement's parameters (resource content),
and a ``KeyError`` or ``ValueError`` may quote a value. So on the loggers that print tracebacks the
message is withheld; the exception's type, its chain and the stack (code locations, not values) are
kept, which is what a developer needs to find the fault.
"""

from __future__ import annotations

import logging
import traceback
from types import TracebackType

# Loggers that write tracebacks of failed requests: ours, and uvicorn's "Exception in ASGI application".
LOGGERS = ("benhan", "benhan.fhir", "benhan.web", "uvicorn.error")
WITHHELD = "(message withheld: it may hold personal data)"

ExcInfo = tuple[type[BaseException], BaseException, TracebackType | None]


def scrubbed_traceback(exc_info: ExcInfo) -> str:
    """The traceback of ``exc_info`` without any exception message."""
    etype, value, tb = exc_info
    lines = ["Traceback (most recent call last):\n", *traceback.format_tb(tb),
             f"{etype.__module__}.{etype.__qualname__}: {WITHHELD}\n"]
    chain, seen = [], {id(value)}
    cause = value.__cause__ or value.__context__
    while cause is not None and id(cause) not in seen and len(chain) < 10:
        seen.add(id(cause))
        chain.append(f"{type(cause).__module__}.{type(cause).__qualname__}")
        cause = cause.__cause__ or cause.__context__
    if chain:
        lines.append(f"while handling: {' <- '.join(chain)}\n")
    return "".join(lines).rstrip("\n")


class WithholdExceptionMessages(logging.Filter):
    """Replaces the formatted exception of a record by :func:`scrubbed_traceback` (formatters use it)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.exc_info and record.exc_info[1] is not None:
            record.exc_text = scrubbed_traceback(record.exc_info)  # type: ignore[arg-type]
        return True


def install() -> None:
    """Add the filter to :data:`LOGGERS` (once; a logger's filters see the records it creates)."""
    for name in LOGGERS:
        logger = logging.getLogger(name)
        if not any(isinstance(f, WithholdExceptionMessages) for f in logger.filters):
            logger.addFilter(WithholdExceptionMessages())


__all__ = ["LOGGERS", "WITHHELD", "WithholdExceptionMessages", "install", "scrubbed_traceback"]
