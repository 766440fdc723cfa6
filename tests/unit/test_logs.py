"""Log records of the libraries Guild runs on come out as Guild's JSON lines; FastStream's
restart of a pull loop after a routine fetch timeout is not an error, other failures are."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator

import pytest

from shared.logs import configure_logging

FASTSTREAM_RETRY = (
    "Task-7 raised an exception, retrying...\nIf this behavior causes issues, you can disable "
    "it via setting the FASTSTREAM_SUPERVISOR_DISABLED env to 1. Also, please consider "
    "opening issue on the repository: https://github.com/ag2ai/faststream."
)


@pytest.fixture
def lines(monkeypatch: pytest.MonkeyPatch) -> Iterator[io.StringIO]:
    out = io.StringIO()
    monkeypatch.setattr("sys.stderr", out)
    configure_logging(service="test", region="eu", level="INFO", fmt="json")
    yield out
    logging.getLogger().handlers.clear()


def records(out: io.StringIO) -> list[dict]:
    return [json.loads(line) for line in out.getvalue().splitlines()]


def raised(error: BaseException) -> BaseException:
    try:
        raise error
    except BaseException as caught:
        return caught


def test_faststream_and_uvicorn_records_are_json_lines(lines):
    logging.getLogger("faststream").warning("Connection broken with UnexpectedEOF()")
    logging.getLogger("faststream.content").warning("subscriber restarted")
    logging.getLogger("uvicorn.error").warning("port busy")
    assert [(r["logger"], r["message"]) for r in records(lines)] == [
        ("faststream", "Connection broken with UnexpectedEOF()"),
        ("faststream.content", "subscriber restarted"),
        ("uvicorn.error", "port busy"),
    ]


def test_a_routine_fetch_timeout_restart_is_not_logged_as_an_error(lines):
    logging.getLogger("faststream.content").error(FASTSTREAM_RETRY, exc_info=raised(TimeoutError()))
    assert records(lines) == []


def test_another_failure_of_a_pull_loop_stays_an_error_with_its_traceback(lines):
    logging.getLogger("faststream.content").error(
        FASTSTREAM_RETRY, exc_info=raised(RuntimeError("broken"))
    )
    (record,) = records(lines)
    assert record["level"] == "ERROR"
    assert "RuntimeError: broken" in record["exception"]
