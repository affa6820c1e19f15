"""Renderings of engine results that are more than one line: the inspect JSON."""

from __future__ import annotations

from .textfmt import json_string

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (start-up time)
if TYPE_CHECKING:
    from pybbolt.inspect import BucketStructure

_INDENT = "    "


def _templates(depth: int) -> tuple[str, str, str, str]:
    """At ``depth``: a bucket without nested buckets, the head of one with
    them, the separator of its nested buckets and its tail."""
    pad = _INDENT * depth
    inner = pad + _INDENT
    return (
        f'{{\n{inner}"name": "%s",\n{inner}"keyN": %d\n{pad}}}',
        f'{{\n{inner}"name": "%s",\n{inner}"keyN": %d,\n{inner}"buckets": [\n{inner}{_INDENT}',
        f",\n{inner}{_INDENT}",
        f"\n{inner}]\n{pad}}}",
    )


# Printable ASCII but the characters Go's encoding/json escapes: a name of
# these alone is written as it is (bucket names mostly are).
_PLAIN = bytes(c for c in range(0x20, 0x7F) if chr(c) not in '"\\<>&')


def render_structure(tree: BucketStructure) -> str:
    """Go's ``json.MarshalIndent(tree, "", "    ")`` (no trailing newline)."""
    parts: list[str] = []
    _render(tree, 0, parts, [])
    return "".join(parts)


def _render(
    node: BucketStructure, depth: int, parts: list[str],
    templates: list[tuple[str, str, str, str]],
) -> None:
    # One set of templates per depth, made once per rendering (containerd:
    # 57,000 buckets at a handful of depths).
    while len(templates) <= depth:
        templates.append(_templates(len(templates)))
    leaf, head, between, tail = templates[depth]
    name = node.name
    text = json_string(name)[1:-1] if name.translate(None, _PLAIN) else name.decode("ascii")
    if not node.children:
        parts.append(leaf % (text, node.key_n))
        return
    parts.append(head % (text, node.key_n))
    for child in node.children:
        _render(child, depth + 2, parts, templates)
        parts.append(between)
    parts[-1] = tail  # no separator after the last one
