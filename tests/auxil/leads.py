"""Leads and users as staff pages and services find them: rows written the way the leads
dialogue writes them, so that lists, filters and pages can be tested at scale."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from db.models.handoff import Lead
from db.repos.core import UserRepo
from db.repos.staff import RoleRepo
from handlers.leads import name_key
from knowledge import places

QUANG_NGAI = places.match_province("Quảng Ngãi", limit=1)[0].code
NGHIA_HANH = places.match_commune(QUANG_NGAI, "Nghĩa Hành", limit=1)[0].code


async def collaborator(session: Any, chat_id: str, name: str) -> int:
    """A collaborator's chat; returns its user id."""
    user = await UserRepo(session).touch("telegram", chat_id, chat_id, name, "vi")
    await RoleRepo(session).set_role("telegram", chat_id, "collaborator", datetime.now(UTC))
    return int(user.id)


async def add_lead(
    session: Any,
    facility: str,
    phone: str,
    *,
    chat_id: str = "811",
    collaborator: str = "Đỗ Văn Hùng",
    province_code: int = QUANG_NGAI,
    commune_code: int = NGHIA_HANH,
    status: str = "new",
    created_at: datetime | None = None,
    notes: str = "",
) -> Lead:
    province = places.province_by_code(province_code)
    commune = places.commune_by_code(commune_code)
    assert province is not None and commune is not None
    when = created_at or datetime.now(UTC)
    lead = Lead(
        channel="telegram",
        chat_id=chat_id,
        collaborator=collaborator,
        facility_name=facility,
        name_key=name_key(facility),
        owner_name="Nguyễn Văn An",
        phone=phone,
        province=province.name,
        province_code=province.code,
        commune=commune.name,
        commune_code=commune.code,
        sector="craft",
        support="machinery",
        notes=notes,
        consent=True,
        status=status,
        created_at=when,
        updated_at=when,
    )
    session.add(lead)
    await session.flush()
    return lead


DA_NANG = places.match_province("Đà Nẵng", limit=1)[0].code
HOA_VANG = places.match_commune(DA_NANG, "Hòa Vang", limit=1)[0].code
