"""Services run on asyncio's loop by default, on uvloop when asked, and fall back to asyncio's
with a warning where uvloop is not installed."""

from __future__ import annotations

import asyncio
import logging
import sys

import pytest
import uvloop

from shared.loop import loop_factory, run
from shared.settings import GuildSettings


async def running_loop_type() -> type:
    return type(asyncio.get_running_loop())


def test_the_default_loop_is_asyncios(monkeypatch):
    monkeypatch.setenv("GUILD_REGION", "eu")
    assert GuildSettings().event_loop == "asyncio"
    assert not issubclass(run(running_loop_type(), "asyncio"), uvloop.Loop)


def test_uvloop_when_asked():
    assert run(running_loop_type(), "uvloop") is uvloop.Loop


def test_asyncio_with_a_warning_where_uvloop_is_missing(monkeypatch, caplog):
    monkeypatch.setitem(sys.modules, "uvloop", None)  # import uvloop raises ImportError
    with caplog.at_level(logging.WARNING, logger="guild.loop"):
        factory = loop_factory("uvloop")
    assert factory is asyncio.new_event_loop
    assert "uvloop is not installed" in caplog.text


def test_an_unknown_loop_is_refused_by_the_settings(monkeypatch):
    monkeypatch.setenv("GUILD_REGION", "eu")
    monkeypatch.setenv("GUILD_EVENT_LOOP", "trio")
    with pytest.raises(ValueError, match="event_loop"):
        GuildSettings()
