"""inspect: the JSON layout of Go's json.MarshalIndent, byte for byte."""

from __future__ import annotations

from pybbolt.cli.render import render_structure

from pybbolt.inspect import BucketStructure


def test_empty_tree() -> None:
    assert render_structure(BucketStructure(b"root")) == (
        '{\n    "name": "root",\n    "keyN": 0\n}'
    )


def test_nested_tree() -> None:
    tree = BucketStructure(
        b"root",
        0,
        [
            BucketStructure(b"nested", 1, [BucketStructure(b"child", 1)]),
            BucketStructure(b"\xde\xad\xbe\xef", 1),
        ],
    )
    assert render_structure(tree) == (
        "{\n"
        '    "name": "root",\n'
        '    "keyN": 0,\n'
        '    "buckets": [\n'
        "        {\n"
        '            "name": "nested",\n'
        '            "keyN": 1,\n'
        '            "buckets": [\n'
        "                {\n"
        '                    "name": "child",\n'
        '                    "keyN": 1\n'
        "                }\n"
        "            ]\n"
        "        },\n"
        "        {\n"
        '            "name": "\u07ad\ufffd\ufffd",\n'
        '            "keyN": 1\n'
        "        }\n"
        "    ]\n"
        "}"
    )
