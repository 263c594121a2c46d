"""Province and commune lookup over the 34-province map (vietnam-provinces)."""

from __future__ import annotations

import pytest

from knowledge import places


def test_the_package_has_the_new_map():
    assert len(places.all_provinces()) == 34
    kinds = {p.kind for p in places.all_provinces()}
    assert kinds == {"tỉnh", "thành phố trung ương"}


@pytest.mark.parametrize(
    ("typed", "name", "via"),
    [
        ("Quảng Ngãi", "Quảng Ngãi", None),
        ("quang ngai", "Quảng Ngãi", None),
        ("tinh quang ngai", "Quảng Ngãi", None),
        ("qung ngai", "Quảng Ngãi", None),  # typo
        ("tp hcm", "Thành phố Hồ Chí Minh", None),
        ("sai gon", "Thành phố Hồ Chí Minh", None),
        ("hue", "Thành phố Huế", None),
        ("quang nam", "Thành phố Đà Nẵng", "Quảng Nam"),  # old province merged
        ("binh duong", "Thành phố Hồ Chí Minh", "Bình Dương"),
        ("ha giang", "Tuyên Quang", "Hà Giang"),
        ("kien giang", "An Giang", "Kiên Giang"),
        ("xuong o quang ngai", "Quảng Ngãi", None),
    ],
)
def test_province_matches_first(typed, name, via):
    best = places.match_province(typed)[0]
    assert (best.name, best.via) == (name, via)


@pytest.mark.parametrize("typed", ["", "😀", "khong co tinh nay", "zzz"])
def test_no_province_for_junk(typed):
    assert places.match_province(typed) == []


@pytest.mark.parametrize(
    ("province", "typed", "name"),
    [
        (48, "hoa vang", "Xã Hòa Vang"),
        (48, "xa hoa vang", "Xã Hòa Vang"),
        (48, "phuong hoi an", "Phường Hội An"),
        (48, "hoi ann", "Phường Hội An"),  # typo
        (38, "hoang hoa", "Xã Hoằng Hóa"),  # an old district name kept by a commune
        (96, "dam doi", "Xã Đầm Dơi"),
    ],
)
def test_commune_matches_first(province, typed, name):
    assert places.match_commune(province, typed)[0].name == name


def test_commune_search_stays_in_the_province():
    assert all(
        places.commune_by_code(m.code).province_code == 51
        for m in places.match_commune(51, "hoa vang")
    )


def test_location_test_reads_the_unit_type():
    hoa_vang = places.match_commune(48, "xa hoa vang")[0].code
    hoi_an = places.match_commune(48, "phuong hoi an")[0].code
    assert places.location_test(48, hoa_vang).ok  # commune of a centrally-run city
    check = places.location_test(48, hoi_an)  # ward of a centrally-run city: verify
    assert not check.ok and "cán bộ" in check.note
    ward_of_province = places.match_commune(51, "phuong cam thanh")[0]
    assert places.location_test(51, ward_of_province.code).ok


@pytest.mark.parametrize("typed", ["phu vang", "hoa vang", "dien ban", "an nhon", "giu nguyen"])
def test_commune_names_do_not_pass_for_provinces(typed):
    assert places.match_province(typed) == []


def test_a_commune_is_found_across_provinces():
    [phu_vang] = places.find_commune_anywhere("phu vang")
    assert (phu_vang.name, places.province_by_code(phu_vang.province_code).name) == (
        "Xã Phú Vang",
        "Thành phố Huế",
    )
    assert places.find_commune_anywhere("xa tan phu")[0].name == "Xã Tân Phú"
    assert places.find_commune_anywhere("khong co tinh nay") == []
    assert places.find_commune_anywhere("zz") == []


def test_example_commune_and_unit_words_in_sentences():
    example = places.example_commune(51)
    assert example.startswith("xã ")
    assert places.match_commune(51, example)[0].name == "X" + example[1:]
    assert places.in_sentence("Thành phố Đà Nẵng") == "thành phố Đà Nẵng"
    assert places.in_sentence("Phường Điện Bàn") == "phường Điện Bàn"
    assert places.in_sentence("Quảng Ngãi") == "Quảng Ngãi"
    hoi_an = places.match_commune(48, "phuong hoi an")[0].code
    assert "chưa nêu phường" in places.location_test(48, hoi_an).note
