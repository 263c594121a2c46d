"""The support-type catalogue and estimate rules are data, checked against the reference."""

from __future__ import annotations

import pytest

from knowledge.support import RulesError, catalogue, format_vnd, load_catalogue

CENTRE = "Trung tâm Khuyến công tỉnh Thử Nghiệm"


@pytest.mark.parametrize(
    ("type_id", "cost", "amount"),
    [
        ("machinery", 350_000_000, 175_000_000),  # 50%
        ("machinery", 1_000_000_000, 300_000_000),  # cap 300 triệu/cơ sở
        ("line", 2_000_000_000, 450_000_000),  # whole line: 1.5 × the cap
        ("line", 400_000_000, 200_000_000),
        ("demo", 1_000_000_000, 300_000_000),  # 30%
        ("demo", 5_000_000_000, 1_000_000_000),  # cap 1.000 triệu
        ("startup", 50_000_000, 10_000_000),  # ≤ 10 triệu
        ("startup", 6_000_000, 6_000_000),
    ],
)
def test_levels_from_the_reference(type_id, cost, amount):
    est = catalogue().estimate(type_id, cost, CENTRE)
    assert est.amount == amount
    assert "Nguồn:" in est.text and "Thông tư 28/2018/TT-BTC" in est.text
    assert "ước tính" in est.caveat and CENTRE in est.caveat and "tỉnh" in est.caveat


@pytest.mark.parametrize("type_id", ["training", "fair", "brand", "consulting", "cleaner", "other"])
def test_no_level_in_the_reference_says_so(type_id):
    est = catalogue().estimate(type_id, 100_000_000, CENTRE)
    assert est.amount is None
    assert "Chưa có mức hỗ trợ" in est.text and CENTRE in est.text


def test_every_type_has_label_button_and_source():
    for st in catalogue().types.values():
        assert st.label and st.button and st.source
        assert len(f"intake:pick:support:{st.id}".encode()) <= 64


def test_format_vnd():
    assert format_vnd(350_000_000) == "350.000.000 đồng (350 triệu)"
    assert format_vnd(1_200_000_000) == "1.200.000.000 đồng (1,2 tỷ)"
    assert format_vnd(120_000) == "120.000 đồng"


def test_a_broken_rules_file_is_reported(tmp_path):
    bad = tmp_path / "rules.yaml"
    bad.write_text(
        "caveat: x\nno_level: y\ntypes:\n  - id: a\n    label: A\n    button: A\n"
        "    source: S\n    rule: {kind: percent_cap, percent: 150, cap: 1}\n",
        encoding="utf-8",
    )
    with pytest.raises(RulesError, match="percent"):
        load_catalogue(bad)
