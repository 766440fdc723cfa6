"""The console channel logs that a notification went out, by its ids, never what it says:
its title and body quote people ("Zdenka Quibbleworth joined Go"), and logs carry no names."""

from __future__ import annotations

import asyncio
import io
import logging

from services.notifications.channels.console import ConsoleChannel
from services.notifications.domain import model
from services.notifications.domain.model import Dispatch, Recipient
from shared.logs import JsonFormatter, TextFormatter

NAME, EMAIL = "Zdenka Quibbleworth", "zdenka@example.com"


def lines_logged_by(formatter: logging.Formatter) -> str:
    out = io.StringIO()
    handler = logging.StreamHandler(out)
    handler.setFormatter(formatter)
    logger = logging.getLogger("guild.notify.console")
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    try:
        alert = model.newcomer_alert(Recipient("fac", "eu"), "Go", NAME, "works in eu")
        dispatch = Dispatch("n-1", "cause-1", "guild.membership.member_joined.v1", "console", alert)
        asyncio.run(ConsoleChannel().send(dispatch))  # built-in channels are given no contact
    finally:
        logger.removeHandler(handler)
    return out.getvalue()


def test_the_console_channel_logs_ids_and_no_name_or_address():
    for formatter in (JsonFormatter({"service": "notifications", "region": "eu"}), TextFormatter()):
        logged = lines_logged_by(formatter)
        assert "n-1" in logged
        assert "member_joined" in logged
        for personal in (NAME, EMAIL):
            assert personal not in logged
