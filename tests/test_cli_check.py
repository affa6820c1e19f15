"""stats' float32 percentages and report layout; check's exit statuses."""

from __future__ import annotations

from pybbolt.cli.cmd_check import percent, render_stats

from pybbolt.stats import BucketStats


def test_percent_in_float32() -> None:
    assert percent(100, 4096) == 2
    assert percent(7927, 20480) == 38
    assert percent(3, 6) == 50
    assert percent(188, 7927) == 2
    assert percent(114, 0) == 0
    assert percent(1, 1) == 100
    # float32 rounding: 16777217 * 100 is not exact in single precision
    assert percent(16777217, 16777217) == 100


def test_stats_report() -> None:
    s = BucketStats(
        branch_page_n=1, leaf_page_n=5, key_n=70, depth=3, branch_alloc=4096, branch_inuse=100,
        leaf_alloc=20480, leaf_inuse=7927, bucket_n=6, inline_bucket_n=3, inline_bucket_inuse=188,
    )
    assert render_stats(4, s) == (
        "Aggregate statistics for 4 buckets\n\n"
        "Page count statistics\n"
        "\tNumber of logical branch pages: 1\n"
        "\tNumber of physical branch overflow pages: 0\n"
        "\tNumber of logical leaf pages: 5\n"
        "\tNumber of physical leaf overflow pages: 0\n"
        "Tree statistics\n"
        "\tNumber of keys/value pairs: 70\n"
        "\tNumber of levels in B+tree: 3\n"
        "Page size utilization\n"
        "\tBytes allocated for physical branch pages: 4096\n"
        "\tBytes actually used for branch data: 100 (2%)\n"
        "\tBytes allocated for physical leaf pages: 20480\n"
        "\tBytes actually used for leaf data: 7927 (38%)\n"
        "Bucket statistics\n"
        "\tTotal number of buckets: 6\n"
        "\tTotal number on inlined buckets: 3 (50%)\n"
        "\tBytes used for inlined buckets: 188 (2%)\n"
    )
