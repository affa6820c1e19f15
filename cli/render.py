"""Renderings of engine results that are more than one line: the inspect JSON."""

from __future__ import annotations

from .textfmt import json_string

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (start-up time)
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
    head = f'{{\n{inner}"name": {json_string(node.name)},\n{inner}"keyN": {node.key_n}'
    if not node.children:
        parts.append(f"{head}\n{pad}}}")
        return
    between = f",\n{inner}{_INDENT}"
    parts.append(f'{head},\n{inner}"buckets": [\n{inner}{_INDENT}')
    for i, child in enumerate(node.children):
        if i:
            parts.append(between)
        _render(child, depth + 2, parts)
    parts.append(f"\n{inner}]\n{pad}}}")
