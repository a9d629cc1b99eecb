"""Logging set-up: plain lines or JSON lines, each with the reference id of the input being handled.

The dispatcher gives every input a reference id (REFERENCE); the apology for an unexpected error
shows it, and every log line written while that input is handled carries it, so one id finds all
of an input's lines. Log messages never hold message texts or request bodies (see bot/dispatch.py's
`describe`); JSON lines make no exception.
"""

from __future__ import annotations

import json
import logging
from contextvars import ContextVar
from datetime import UTC, datetime

REFERENCE: ContextVar[str] = ContextVar("reference", default="")
TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s%(reference)s: %(message)s"


class _Reference(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        reference = REFERENCE.get()
        record.ref = reference
        record.reference = f" [ref {reference}]" if reference else ""
        return True


class JsonLines(logging.Formatter):
    """One JSON object per line: time (UTC), level, logger, message, ref when an input is being handled,
    and the traceback of an exception."""

    def format(self, record: logging.LogRecord) -> str:
        event: dict[str, str] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname, "logger": record.name, "message": record.getMessage(),
        }
        if getattr(record, "ref", ""):
            event["ref"] = str(record.ref)  # type: ignore[attr-defined]
        if record.exc_info:
            event["traceback"] = self.formatException(record.exc_info)
        return json.dumps(event, ensure_ascii=False)


def configure(level: str, fmt: str) -> None:
    handler = logging.StreamHandler()
    handler.addFilter(_Reference())
    handler.setFormatter(JsonLines() if fmt == "json" else logging.Formatter(TEXT_FORMAT))
    root = logging.getLogger()
    root.handlers = [handler]
    root.setLevel(level)
