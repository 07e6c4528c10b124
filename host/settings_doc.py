"""The README's settings table, generated from the options dataclasses.

    python -m host.settings_doc [README.md]   # print the table, or rewrite it in place

A test (tests/unit/test_docs.py) keeps the README's table equal to this output.
"""

from __future__ import annotations

import sys
from collections.abc import Mapping
from pathlib import Path

from shared import graph
from shared.options import fields_of
from shared.options.queue import QueueOptions


def settings_table(options_classes: Mapping[str, type]) -> str:
    """The Markdown settings table for the README (one row per setting)."""
    rows = ["| variable | stage | default | meaning |", "|---|---|---|---|"]
    for stage, cls in options_classes.items():
        for f in fields_of(cls):
            default = f.default
            if isinstance(default, tuple):
                default = ",".join(default)
            shown = f"`{default}`" if default != "" else "(empty)"
            rows.append(f"| `{f.metadata['env']}` | {stage} | {shown} | {f.metadata['help']} |")
    return "\n".join(rows)


def rewrite_readme_table(readme: str, table: str) -> str:
    """``readme`` with the text between the settings markers replaced by ``table``."""
    start = readme.index("<!-- settings:start")
    start = readme.index("\n", start) + 1
    end = readme.index("<!-- settings:end -->")
    return readme[:start] + table + "\n" + readme[end:]


def documented_options() -> dict[str, type]:
    """Every options class the README's table shows: the stages' (graph order), then the executors' (the queue)
    and the service's."""
    from host.service.options import ServiceOptions, WatchOptions

    return {**graph.options_by_stage(), "queue": QueueOptions, "service": ServiceOptions, "watch": WatchOptions}


def main(argv: list[str]) -> int:
    generated = settings_table(documented_options())
    if argv:
        target = Path(argv[0])
        target.write_text(rewrite_readme_table(target.read_text(), generated))
    else:
        print(generated)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
