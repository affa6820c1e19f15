"""Renderings of engine results that are more than one line: the inspect JSON."""

from __future__ import annotations

from typing import TYPE_CHECKING

from .textfmt import json_string

if TYPE_CHECKING:
    from pybbolt.inspect import BucketStructure

_INDENT = "    "


def render_structure(tree: BucketStructure) -> str:
    """Go's ``json.MarshalIndent(tree, "", "    ")`` (no trailing newline)."""
    parts: list[str] = []
    _render(tree, 0, parts)
    return "".join(parts)


def _render(node: BucketStructure, depth: int, parts: list[str]) -> None:
    pad = _INDENT * depth
    inner = pad + _INDENT
    parts.append("{\n")
    parts.append(f'{inner}"name": {json_string(node.name)},\n')
    parts.append(f'{inner}"keyN": {node.key_n}')
    if node.children:
        parts.append(f',\n{inner}"buckets": [\n')
        last = len(node.children) - 1
        for i, child in enumerate(node.children):
            parts.append(inner + _INDENT)
            _render(child, depth + 2, parts)
            parts.append(",\n" if i < last else "\n")
        parts.append(f"{inner}]")
    parts.append(f"\n{pad}}}")
