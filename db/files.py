"""Files the bot writes for staff: safe spreadsheet cells and owner-only permissions.

- ``safe_cell``: what a user typed can never become a formula in a staff spreadsheet
  (OWASP "CSV injection": a cell starting with ``=``, ``+``, ``-``, ``@``, tab or carriage
  return gets a leading ``'``), and control characters that XML (XLSX, DOCX) refuses are
  removed.
- ``open_private`` / ``private_mode``: exports and the SQLite file are created readable by
  their owner only (``KCBOT_FILE_MODE``, default 600; folders get the matching 700).
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable
from pathlib import Path
from typing import IO, Any

from db.session import DEFAULT_FILE_MODE, create_private, folder_mode, make_folder

__all__ = [
    "create_private",
    "folder_mode",
    "open_private",
    "parse_mode",
    "safe_cell",
    "safe_row",
    "strip_control",
    "strip_control_all",
    "neutralise_spreadsheet",
    "unquote_cell",
]

# C0 controls except tab and newline, DEL, C1 controls, and the code points XML 1.0 forbids.
_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\ud800-\udfff\ufffe\uffff]")
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def strip_control(text: str) -> str:
    """``text`` without control characters (newline and tab are kept)."""
    return _CONTROL.sub("", text.replace("\r\n", "\n"))


def strip_control_all(value: Any) -> Any:
    """``value`` with ``strip_control`` applied to every string in it (dicts, lists)."""
    if isinstance(value, str):
        return strip_control(value)
    if isinstance(value, dict):
        return {k: strip_control_all(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return type(value)(strip_control_all(v) for v in value)
    return value


def safe_cell(value: Any) -> Any:
    """A value ready for a CSV or XLSX cell: text is cleaned and never read as a formula.

    Numbers, booleans, dates and None pass unchanged (they are not typed by users as text).
    """
    if not isinstance(value, str):
        return value
    cleaned = strip_control(value)
    if value.startswith(FORMULA_START) or cleaned.startswith(FORMULA_START):
        return "'" + cleaned
    return cleaned


def safe_row(values: Iterable[Any]) -> list[Any]:
    return [safe_cell(v) for v in values]


def unquote_cell(value: str) -> str:
    """Undo ``safe_cell``'s quote when a spreadsheet made by the bot is read back."""
    if value.startswith("'") and value[1:2] and value[1] in "=+-@\t\r":
        return value[1:]
    return value


def neutralise_spreadsheet(path: Path, file_mode: int = DEFAULT_FILE_MODE) -> None:
    """Make every text cell of a written .csv/.xlsx file safe (``safe_cell``), in place,
    for writers that don't go through ``safe_row`` (e.g. the FAQ content export)."""
    if path.suffix.lower() == ".csv":
        import csv

        with path.open(encoding="utf-8-sig", newline="") as fh:
            rows = list(csv.reader(fh))
        with open_private(path, file_mode, text=True) as out:
            writer = csv.writer(out)
            for row in rows:
                writer.writerow(safe_row(row))
        return
    from openpyxl import load_workbook

    workbook = load_workbook(path)
    for sheet in workbook.worksheets:
        for row in sheet.iter_rows():
            for cell in row:
                if isinstance(cell.value, str):
                    cell.value = safe_cell(cell.value)
    with open_private(path, file_mode) as out:
        workbook.save(out)


def parse_mode(text: str | int | None) -> int:
    """``"600"`` → 0o600; None → the default."""
    if text is None or text == "":
        return DEFAULT_FILE_MODE
    if isinstance(text, int):
        return text & 0o777
    return int(str(text), 8) & 0o777


def open_private(path: Path, file_mode: int = DEFAULT_FILE_MODE, *, text: bool = False) -> IO[Any]:
    """Open ``path`` for writing (truncated), created or re-moded to ``file_mode``.

    The mode is set before any byte is written, so no other user can read a partly
    written export.
    """
    make_folder(path.parent, file_mode)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, file_mode)
    try:
        os.fchmod(fd, file_mode)
    except BaseException:
        os.close(fd)
        raise
    if text:
        return os.fdopen(fd, "w", encoding="utf-8-sig", newline="")
    return os.fdopen(fd, "wb")
