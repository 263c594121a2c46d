"""The support-type catalogue and its estimate rules, read from ``rules/support_levels.yaml``.

Behaviour is code, levels are data: a new circular changes the YAML, not this module.
Only levels the reference states are in the data; a content without one says so.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

RULES_PATH = Path(__file__).parent / "rules" / "support_levels.yaml"
RULE_KINDS = ("percent_cap", "fixed_cap", "none")


class RulesError(ValueError):
    """The rules file is malformed; the message says where."""


@dataclass(frozen=True)
class SupportType:
    id: str
    label: str
    button: str
    kind: str
    source: str
    note: str = ""
    percent: float | None = None
    cap: int | None = None
    cap_multiplier: float = 1.0

    @property
    def has_level(self) -> bool:
        return self.kind != "none"

    @property
    def max_amount(self) -> int | None:
        if self.cap is None:
            return None
        return round(self.cap * self.cap_multiplier)


@dataclass(frozen=True)
class Estimate:
    support_type: SupportType
    amount: int | None  # None: no level in the reference
    text: str  # one or two lines for the chat and the document, with the source
    caveat: str


@dataclass(frozen=True)
class Catalogue:
    types: dict[str, SupportType]
    caveat: str
    no_level: str

    def get(self, type_id: str | None) -> SupportType | None:
        return self.types.get(type_id or "")

    def estimate(self, type_id: str, cost: int | None, centre_name: str) -> Estimate:
        st = self.types[type_id]
        caveat = " ".join(self.caveat.format(centre_name=centre_name).split())
        if not st.has_level or cost is None:
            if not st.has_level:
                text = " ".join(self.no_level.format(centre_name=centre_name).split())
            else:
                text = f"Chưa tính được vì chưa có chi phí. Mức: {st.note} ({st.source})."
            return Estimate(st, None, text, caveat)
        if st.kind == "percent_cap":
            assert st.percent is not None and st.max_amount is not None
            amount = min(round(cost * st.percent / 100), st.max_amount)
        else:  # fixed_cap
            assert st.max_amount is not None
            amount = min(cost, st.max_amount)
        text = f"Ước tính tối đa khoảng {format_vnd(amount)}. {st.note} Nguồn: {st.source}."
        return Estimate(st, amount, text, caveat)


def _rule(raw: dict[str, Any], where: str) -> dict[str, Any]:
    rule = raw.get("rule")
    if not isinstance(rule, dict) or rule.get("kind") not in RULE_KINDS:
        raise RulesError(f"{where}: rule.kind must be one of {', '.join(RULE_KINDS)}")
    kind = rule["kind"]
    out: dict[str, Any] = {"kind": kind}
    if kind in ("percent_cap", "fixed_cap"):
        cap = rule.get("cap")
        if not isinstance(cap, int) or cap <= 0:
            raise RulesError(f"{where}: rule.cap must be a positive whole number of đồng")
        out["cap"] = cap
        mult = rule.get("cap_multiplier", 1.0)
        if not isinstance(mult, int | float) or mult <= 0:
            raise RulesError(f"{where}: rule.cap_multiplier must be a positive number")
        out["cap_multiplier"] = float(mult)
    if kind == "percent_cap":
        pct = rule.get("percent")
        if not isinstance(pct, int | float) or not 0 < pct <= 100:
            raise RulesError(f"{where}: rule.percent must be between 0 and 100")
        out["percent"] = float(pct)
    return out


def load_catalogue(path: Path = RULES_PATH) -> Catalogue:
    raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    if not isinstance(raw, dict) or not isinstance(raw.get("types"), list):
        raise RulesError(f"{path.name}: needs a 'types' list")
    types: dict[str, SupportType] = {}
    for i, item in enumerate(raw["types"]):
        where = f"{path.name} types[{i}]"
        if not isinstance(item, dict):
            raise RulesError(f"{where}: must be a mapping")
        for key in ("id", "label", "button", "source"):
            if not isinstance(item.get(key), str) or not item[key].strip():
                raise RulesError(f"{where}: '{key}' is required")
        if item["id"] in types:
            raise RulesError(f"{where}: duplicate id {item['id']!r}")
        if len(f"intake:pick:support:{item['id']}".encode()) > 64:
            raise RulesError(f"{where}: id too long for a button")
        rule = _rule(item, where)
        types[item["id"]] = SupportType(
            id=item["id"],
            label=item["label"],
            button=item["button"],
            source=item["source"],
            note=str(item.get("note", "")),
            **rule,
        )
    for key in ("caveat", "no_level"):
        if not isinstance(raw.get(key), str):
            raise RulesError(f"{path.name}: '{key}' text is required")
    return Catalogue(types, raw["caveat"], raw["no_level"])


@lru_cache(maxsize=1)
def catalogue() -> Catalogue:
    return load_catalogue()


def format_vnd(amount: int) -> str:
    """350000000 -> "350.000.000 đồng (350 triệu)"; Vietnamese thousands separator."""
    grouped = f"{amount:,}".replace(",", ".")
    if amount >= 1_000_000_000:
        short = f"{amount / 1_000_000_000:.3f}".rstrip("0").rstrip(".").replace(".", ",")
        return f"{grouped} đồng ({short} tỷ)"
    if amount >= 1_000_000:
        short = f"{amount / 1_000_000:.3f}".rstrip("0").rstrip(".").replace(".", ",")
        return f"{grouped} đồng ({short} triệu)"
    return f"{grouped} đồng"
