"""A griffe extension for the API reference (named in mkdocs.yml, not part of the site).

The docstrings are written in reStructuredText habits and read as plain text in ``help()``;
the site renders them as Markdown. This turns the few constructs Markdown lacks into ones it
has: definition lists (a ``name`` line, its meaning indented below) into bullet lists,
cross-reference roles (``:class:`~interactors.Codec` ``) into code spans, and a paragraph
ending in ``::`` before an indented literal block into one ending in ``:``.
"""

from __future__ import annotations

import re
from typing import Any

import griffe

ROLE = re.compile(r":(?:class|func|meth|attr|exc|mod|data|obj):`(~?)([^`]+)`")
TERM = re.compile(r"^(\s*)(``[^`]+``(?:,\s*``[^`]+``)*)\s*$")


def _role(match: re.Match[str]) -> str:
    target = match[2].rsplit(".", 1)[-1] if match[1] else match[2]
    return f"`{target}`"


def _definition_lists(lines: list[str]) -> list[str]:
    out: list[str] = []
    i = 0
    while i < len(lines):
        term = TERM.match(lines[i])
        indent = len(term[1]) if term else 0
        body: list[str] = []
        j = i + 1
        while term and j < len(lines):
            line = lines[j]
            if not line.strip() or len(line) - len(line.lstrip()) <= indent:
                break
            body.append(line.strip())
            j += 1
        if term and body:
            out.append(f"{' ' * indent}- {term[2]}: {' '.join(body)}")
            i = j
        else:
            out.append(lines[i])
            i += 1
    return out


def markdown_docstring(text: str) -> str:
    text = ROLE.sub(_role, text)
    text = re.sub(r"::\n\n", ":\n\n", text)
    return "\n".join(_definition_lists(text.splitlines()))


class RstToMarkdown(griffe.Extension):
    def on_object(self, *, obj: griffe.Object, **kwargs: Any) -> None:
        if obj.docstring is not None:
            obj.docstring.value = markdown_docstring(obj.docstring.value)
