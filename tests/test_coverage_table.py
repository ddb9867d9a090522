"""The README's coverage table says exactly which operations recognito serves.

`python tests/test_coverage_table.py --write` rewrites the table from functions/.
"""

from __future__ import annotations

import sys
from pathlib import Path

from botocore import xform_name
from recognito.protocol import operation_names

REPO = Path(__file__).resolve().parents[1]
README = REPO / "README.md"
START, END = "<!-- coverage:start -->", "<!-- coverage:end -->"

PLANNED = {
    **dict.fromkeys(
        [
            "IndexFaces",
            "ListFaces",
            "DeleteFaces",
            "SearchFaces",
            "SearchFacesByImage",
            "CreateUser",
            "DeleteUser",
            "ListUsers",
            "AssociateFaces",
            "DisassociateFaces",
            "SearchUsers",
            "SearchUsersByImage",
        ],
        "planned: collections of faces and users",
    ),
    **dict.fromkeys(
        [
            "DetectLabels",
            "DetectText",
            "DetectModerationLabels",
            "DetectProtectiveEquipment",
            "RecognizeCelebrities",
            "GetCelebrityInfo",
        ],
        "planned: image analysis",
    ),
}


def implemented() -> set[str]:
    return {op for op in operation_names() if (REPO / "functions" / xform_name(op) / "app.py").exists()}


def table() -> str:
    done = implemented()
    rows = ["| operation | status |", "| --- | --- |"]
    for op in sorted(operation_names()):
        status = "implemented" if op in done else PLANNED.get(op, "not yet: answers InvalidParameterException")
        rows.append(f"| {op} | {status} |")
    return "\n".join([START, *rows, END])


def current() -> str:
    text = README.read_text()
    return text[text.index(START) : text.index(END) + len(END)]


def test_readme_coverage_table_is_true():
    assert current() == table(), "run `python tests/test_coverage_table.py --write`"


if __name__ == "__main__" and sys.argv[1:] == ["--write"]:
    README.write_text(README.read_text().replace(current(), table()))
