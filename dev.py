#!/usr/bin/env python3
"""Set up and run Trợ lý Khuyến công on a fresh machine with nothing but Python 3.11+.

    python3 dev.py start     install into .venv, then start the bot (Telegram if
                             TELEGRAM_BOT_TOKEN is set, otherwise a chat in this terminal)
                             and the web chat and staff pages on http://127.0.0.1:8080
    python3 dev.py test      install with the test tools, then run the whole test suite
    python3 dev.py kcbot ... any kcbot command inside the project's environment

Installing is skipped when pyproject.toml has not changed since the last install.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
BIN = VENV / ("Scripts" if os.name == "nt" else "bin")
PYTHON = BIN / "python"


def ensure_environment(extras: str = "") -> None:
    if sys.version_info < (3, 11):  # noqa: UP036 - dev.py runs on any python3
        sys.exit(f"Python 3.11 or newer is needed; this is {sys.version.split()[0]}.")
    if not PYTHON.exists():
        print("Creating .venv …", flush=True)
        venv.EnvBuilder(with_pip=True).create(VENV)
    spec = f".[{extras}]" if extras else "."
    digest = hashlib.sha256((ROOT / "pyproject.toml").read_bytes() + spec.encode()).hexdigest()
    stamp = VENV / f".installed-{extras or 'base'}"
    if stamp.exists() and stamp.read_text() == digest:
        return
    print(f"Installing {spec} into .venv …", flush=True)
    pip = [str(PYTHON), "-m", "pip", "--disable-pip-version-check", "-q"]
    subprocess.run([*pip, "install", "-e", spec], cwd=ROOT, check=True)
    stamp.write_text(digest)


CHROMIUM = Path("/usr/bin/chromium")


def ensure_chromium() -> None:
    """The browser tests drive Debian's Chromium: install it (and its driver) when missing.

    Failing here is not fatal: the browser tests then skip, or fail with CI=true.
    """
    if CHROMIUM.exists() or not Path("/usr/bin/apt-get").exists():
        return
    sudo: list[str] = []
    if hasattr(os, "geteuid") and os.geteuid() != 0:
        if subprocess.call(["sh", "-c", "command -v sudo"], stdout=subprocess.DEVNULL) != 0:
            print("Chromium is missing and sudo is not available: browser tests will skip.")
            return
        sudo = ["sudo"]
    print("Installing chromium and chromium-driver with apt-get …", flush=True)
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    steps = [[*sudo, "apt-get", "update", "-qq"]]
    steps.append([*sudo, "apt-get", "install", "-y", "-qq", "chromium", "chromium-driver"])
    for step in steps:
        if subprocess.call(step, env=env) != 0:
            print(f"Could not install Chromium ({' '.join(step)} failed): browser tests will skip.")
            return


def kcbot(*args: str) -> int:
    return subprocess.call([str(PYTHON), "-m", "bot.cli", *args], cwd=Path.cwd())


def main(argv: list[str]) -> int:
    command = argv[0] if argv else "help"
    if command == "start":
        ensure_environment()
        if os.environ.get("TELEGRAM_BOT_TOKEN"):
            port = os.environ.get("KCBOT_LISTEN_PORT", "8080")
            print(
                f"Trò chuyện trên web: http://127.0.0.1:{port}/chat\n"
                f"Trang cán bộ: http://127.0.0.1:{port}/admin/\n"
                "  Tạo tài khoản đăng nhập: python3 dev.py kcbot staff add-login TEN --role admin",
                flush=True,
            )
            return kcbot("run")
        # Nothing but this machine should reach a demo started without any setting.
        os.environ.setdefault("KCBOT_LISTEN_HOST", "127.0.0.1")
        print(
            "TELEGRAM_BOT_TOKEN is not set: starting the bot in this terminal and on the web "
            "(see README to run it on Telegram).",
            flush=True,
        )
        return kcbot("chat", "--web")
    if command == "test":
        ensure_environment("dev")
        ensure_chromium()
        code = subprocess.call([str(PYTHON), "-m", "pytest", *argv[1:]], cwd=ROOT)
        if code == 5:  # pytest found no tests: that is a failure, not a pass
            print("No tests were collected.", file=sys.stderr)
            return 1
        return code
    if command == "kcbot":
        ensure_environment()
        return kcbot(*argv[1:])
    print(__doc__)
    return 0 if command in {"help", "-h", "--help"} else 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
