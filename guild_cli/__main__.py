"""``python -m guild_cli``: the same as the ``guild`` command."""

from guild_cli.main import run

run()
