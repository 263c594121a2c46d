"""`kcbot chat`: the same engine in a terminal, buttons shown numbered."""

from __future__ import annotations

import asyncio
import getpass
import sys
from pathlib import Path
from typing import TextIO

from bot.channels import Capabilities
from bot.engine import Engine
from bot.render import render
from bot.types import Document, Incoming

CHANNEL = "terminal"
# A terminal shows no buttons (choices are numbered) and saves files to a folder.
CAPABILITIES = Capabilities(buttons=False, documents=True, max_text=100_000)


def _save(folder: Path, document: Document) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / Path(document.filename).name  # never outside the folder
    path.write_bytes(document.content)
    return path


async def chat(
    engine: Engine,
    *,
    chat_id: str | None = None,
    stdin: TextIO = sys.stdin,
    stdout: TextIO = sys.stdout,
    documents_dir: Path = Path("data/documents"),
) -> None:
    """Read lines until EOF or /quit; print the bot's replies."""
    chat_id = chat_id or f"terminal-{getpass.getuser()}"
    loop = asyncio.get_running_loop()

    engine.capabilities[CHANNEL] = CAPABILITIES

    async def send(incoming: Incoming) -> None:
        for reply in render(await engine.handle(incoming), CAPABILITIES):
            print(f"\n🤖 {reply.text}", file=stdout)
            if reply.document is not None:
                path = await asyncio.to_thread(_save, documents_dir, reply.document)
                print(f"   📎 Đã lưu tệp: {path}", file=stdout)
        stdout.flush()

    print(
        "Trợ lý Khuyến công – trò chuyện trên terminal. Gõ số để chọn nút, /quit để thoát.",
        file=stdout,
    )
    await send(Incoming(channel=CHANNEL, chat_id=chat_id, user_id=chat_id, text="/start"))
    while True:
        print("\n> ", end="", file=stdout)
        stdout.flush()
        line = await loop.run_in_executor(None, stdin.readline)
        if not line or line.strip() in {"/quit", "/exit"}:
            break
        await send(
            Incoming(channel=CHANNEL, chat_id=chat_id, user_id=chat_id, text=line.rstrip("\n"))
        )
