"""Fixtures for the fake Telegram Bot API (filled in with the Telegram transport)."""
