"""MkDocs hook: the CLI reference page is written from the one argparse parser (`rag.cli`), at
every build, so that it cannot drift from the commands. docs/cli.md holds the marker it fills."""

from __future__ import annotations

import argparse
import os
from html import escape

MARKER = "<!-- cli-reference -->"
WIDTH = "100"  # argparse wraps usage to $COLUMNS; fixed so that every build writes the same page


def on_page_markdown(markdown: str, page, config, files) -> str:  # noqa: ARG001: MkDocs' API
    if MARKER not in markdown:
        return markdown
    return markdown.replace(MARKER, reference())


def reference() -> str:
    os.environ["COLUMNS"] = WIDTH
    from rag.cli import build_parser

    parser = build_parser()
    out = [
        "```text",
        parser.format_usage().strip(),
        "```",
        "",
    ]
    commands = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    helps = {choice.dest: choice.help for choice in commands._choices_actions}
    for name, sub in commands.choices.items():
        out += [f"## rag {name}", "", _sentence(helps.get(name) or sub.description or ""), ""]
        out += ["```text", sub.format_usage().strip(), "```", ""]
        rows = [a for a in sub._actions if not isinstance(a, argparse._HelpAction)]
        if rows:
            out += ["| argument | default | what it does |", "| --- | --- | --- |"]
            out += [_row(action) for action in rows]
            out.append("")
    return "\n".join(out)


def _row(action: argparse.Action) -> str:
    if action.option_strings:
        name = ", ".join(action.option_strings)
        if action.nargs != 0:
            name += " " + (action.metavar or _choices(action) or action.dest.upper())
    else:
        name = action.metavar or action.dest
    default = action.default
    if isinstance(action, argparse._StoreTrueAction) or default in (
        None,
        "",
        [],
        argparse.SUPPRESS,
    ):
        shown = ""
    else:
        shown = f"`{default}`"
    text = (action.help or "").replace("%(default)s", str(default)).replace("%%", "%")
    if isinstance(action, argparse._AppendAction):
        text += " (repeatable)" if "repeat" not in text else ""
    return f"| `{name}` | {shown} | {_cell(text)} |"


def _choices(action: argparse.Action) -> str:
    if action.choices and not isinstance(action.choices, dict):
        return "{" + ",".join(str(c) for c in action.choices) + "}"
    return ""


def _cell(text: str) -> str:
    return escape(" ".join(text.split()), quote=False).replace("|", "\\|")


def _sentence(text: str) -> str:
    text = " ".join(text.split())
    return (text[:1].upper() + text[1:] + ("" if text.endswith(".") else ".")) if text else ""
