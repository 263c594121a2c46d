"""Staff and collaborators: roles and invite codes (``roles``), the staff menu,
announcements with delivery reports (``broadcast`` and the form in ``dialogue``), and
notices of newly confirmed drafts (``notices``)."""

from handlers.staff.dialogue import StaffFeature, feature

__all__ = ["StaffFeature", "feature"]
