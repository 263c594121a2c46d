"""`kcbot zalo-oa set-tokens|status`, and `kcbot run` naming every channel it can serve."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from tests.test_run_command import clean_env


def kcbot(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bot.cli", *args],
        cwd=Path(__file__).resolve().parents[2],
        env=clean_env(tmp_path),
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_set_tokens_then_status(tmp_path: Path):
    before = kcbot(tmp_path, "zalo-oa", "status")
    assert before.returncode == 1 and "kcbot zalo-oa set-tokens" in before.stdout
    seeded = kcbot(tmp_path, "zalo-oa", "set-tokens", "ACCESS-1", "REFRESH-1")
    assert seeded.returncode == 0 and "Đã lưu mã Zalo OA" in seeded.stdout
    status = kcbot(tmp_path, "zalo-oa", "status")
    assert status.returncode == 0, status.stderr
    assert "còn hạn" in status.stdout and "Lần làm mới gần nhất: chưa có" in status.stdout
    assert "ACCESS-1" not in status.stdout + status.stderr  # tokens are never printed
    # Seeding again replaces the pair.
    again = kcbot(tmp_path, "zalo-oa", "set-tokens", "A2", "R2", "--expires-in", "60")
    assert again.returncode == 0


def test_run_without_any_channel_names_the_zalo_settings_too(tmp_path: Path):
    result = kcbot(tmp_path, "run")
    assert result.returncode == 2
    for name in ("TELEGRAM_BOT_TOKEN", "ZALO_APP_ID", "ZALO_OA_SECRET_KEY", "ZALO_BOT_TOKEN"):
        assert name in result.stderr
    assert "Traceback" not in result.stderr
