"""Page helpers without a server: exports can't carry formulas, pages clamp."""

from __future__ import annotations

import io

from openpyxl import load_workbook

from bot.web.core import paginate, xlsx_response


def test_xlsx_export_cells_are_never_formulas():
    response = xlsx_response(
        "Hồ sơ tháng 5.xlsx",
        [('=HYPERLINK("http://x")', 12, "Cơ sở <b>Mây tre</b>"), ("+84 90", None, "@SUM(A1)")],
        ["Tên", "Số", "Ghi chú"],
    )
    assert response.headers["Content-Disposition"].startswith('attachment; filename="H')
    assert "filename*=UTF-8''H%E1%BB%93%20s%C6%A1" in response.headers["Content-Disposition"]
    assert isinstance(response.body, bytes)
    sheet = load_workbook(io.BytesIO(response.body)).active
    assert sheet is not None
    rows = [[c.value for c in row] for row in sheet.iter_rows()]
    assert rows[0] == ["Tên", "Số", "Ghi chú"]
    assert rows[1] == ['\'=HYPERLINK("http://x")', 12, "Cơ sở <b>Mây tre</b>"]
    assert rows[2] == ["'+84 90", None, "'@SUM(A1)"]
    assert all(c.data_type != "f" for row in sheet.iter_rows() for c in row)


def test_paginate_clamps_to_the_pages_there_are():
    p = paginate(total=101, page=9, per_page=50)
    assert (p.page, p.pages, p.offset, p.limit, p.has_prev, p.has_next) == (
        3,
        3,
        100,
        50,
        True,
        False,
    )
    empty = paginate(total=0, page=0, per_page=50)
    assert (empty.page, empty.pages, empty.offset, empty.has_next) == (1, 1, 0, False)
