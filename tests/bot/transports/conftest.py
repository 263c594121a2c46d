from tests.auxil.zalo import fake_oa, fake_zbot

__all__ = ["fake_oa", "fake_zbot"]
