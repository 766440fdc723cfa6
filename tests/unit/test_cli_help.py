"""The CLI's help says what its commands actually read."""

from __future__ import annotations

from typer.testing import CliRunner

from guild_cli.main import app


def test_eval_routing_help_names_the_files_the_evaluation_reads():
    shown = CliRunner().invoke(app, ["eval", "routing", "--help"], env={"COLUMNS": "200"})
    assert shown.exit_code == 0, shown.output
    assert "questions.jsonl" in shown.output
    assert "answers.jsonl" in shown.output
    assert "Posts.xml" not in shown.output
