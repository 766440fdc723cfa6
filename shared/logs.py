"""Logging: one line per record, JSON by default, with the fields passed in ``extra``.

``log.warning("dead-lettered", extra={"event_id": ..., "reason": ...})`` becomes
``{"time": ..., "level": "WARNING", "service": "membership", "region": "eu",
"message": "dead-lettered", "event_id": ..., "reason": ...}``.
"""

from __future__ import annotations

import json
import logging
import sys
from datetime import UTC, datetime
from typing import Any

from opentelemetry import trace

_STANDARD_ATTRIBUTES = frozenset(
    vars(logging.LogRecord("", 0, "", 0, "", None, None)).keys() | {"message", "asctime"}
)


def _extras(record: logging.LogRecord) -> dict[str, Any]:
    return {k: v for k, v in vars(record).items() if k not in _STANDARD_ATTRIBUTES}


def _trace_id() -> str | None:
    context = trace.get_current_span().get_span_context()
    return format(context.trace_id, "032x") if context.is_valid else None


class JsonFormatter(logging.Formatter):
    """Formats a record as one JSON object per line."""

    def __init__(self, static: dict[str, str]) -> None:
        super().__init__()
        self.static = static

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            **self.static,
            "logger": record.name,
            "message": record.getMessage(),
            **_extras(record),
        }
        if trace_id := _trace_id():
            line["trace_id"] = trace_id
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        return json.dumps(line, default=str)


class TextFormatter(logging.Formatter):
    """Human-readable: ``time level logger message key=value ...``."""

    def format(self, record: logging.LogRecord) -> str:
        stamp = datetime.fromtimestamp(record.created, UTC).strftime("%H:%M:%S.%f")[:-3]
        pairs = " ".join(f"{k}={v}" for k, v in _extras(record).items())
        text = f"{stamp} {record.levelname:<7} {record.name}: {record.getMessage()} {pairs}"
        if record.exc_info:
            text += "\n" + self.formatException(record.exc_info)
        return text.rstrip()


LIBRARY_LOGGERS = ("faststream", "uvicorn", "uvicorn.error", "uvicorn.access", "nats")
"""Loggers that FastStream and uvicorn give handlers of their own (colourised text, not
propagated): their records are sent to Guild's handler instead."""


class RoutineFetchTimeouts(logging.Filter):
    """FastStream 0.7.8 restarts a pull loop whose fetch raised a plain ``TimeoutError``
    (nats-py 2.16 raises one, not its own, when a fetch's deadline passes between its two
    requests, as happens under CPU load) and logs that at ERROR with a traceback, asking for an
    issue to be opened. Nothing is lost or late: it is a debug line. Any other failure of a
    pull loop stays an error, with its traceback."""

    def filter(self, record: logging.LogRecord) -> bool:
        error = record.exc_info[1] if record.exc_info else None
        routine = (
            record.name.startswith("faststream")
            and isinstance(error, TimeoutError)
            and "raised an exception, retrying" in str(record.msg)
        )
        if not routine:
            return True
        record.levelno, record.levelname = logging.DEBUG, "DEBUG"
        record.msg, record.args, record.exc_info = "pull fetch timed out; fetching again", (), None
        return logging.getLogger().isEnabledFor(logging.DEBUG)


def configure_logging(*, service: str, region: str, level: str, fmt: str) -> None:
    """Send every log record to stderr, one line each, the libraries' records included."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(
        JsonFormatter({"service": service, "region": region}) if fmt == "json" else TextFormatter()
    )
    handler.addFilter(RoutineFetchTimeouts())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    for name in LIBRARY_LOGGERS:
        library = logging.getLogger(name)
        library.handlers.clear()
        library.propagate = True
    # FastStream logs two INFO lines per message by default, which costs about a quarter of
    # consumer throughput; Guild logs what matters itself.
    logging.getLogger("faststream").setLevel(max(logging.WARNING, root.level))
    logging.getLogger("nats").setLevel(max(logging.WARNING, root.level))
