// The web chat page: no build step, no library. Every text is put in with textContent
// (never parsed as HTML), so nothing a user or the bot writes can become markup.
"use strict";

(function () {
  const API = "/chat/messages";
  const log = document.getElementById("log");
  const form = document.getElementById("composer");
  const input = document.getElementById("text");
  const statusLine = document.getElementById("status");
  const seen = new Set();
  let since = null;

  function newId() {
    const bytes = new Uint8Array(16);
    crypto.getRandomValues(bytes);
    return btoa(String.fromCharCode(...bytes)).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
  }

  function say(text) {
    statusLine.textContent = text || "";
    statusLine.hidden = !text;
  }

  function disableButtons() {
    for (const b of log.querySelectorAll(".buttons button")) b.disabled = true;
  }

  function bubble(message) {
    const div = document.createElement("div");
    div.className = "msg " + (message.who === "user" ? "user" : "bot");
    div.dataset.key = message.key;
    div.textContent = message.text;
    if (message.file) {
      const link = document.createElement("a");
      link.className = "file";
      link.href = message.file.url;
      link.setAttribute("download", message.file.name || "");
      link.textContent = "📎 Tải về " + (message.file.name || "tệp");
      div.appendChild(document.createElement("br"));
      div.appendChild(link);
    }
    if (message.buttons && message.buttons.length) {
      const box = document.createElement("div");
      box.className = "buttons";
      for (const row of message.buttons) {
        const line = document.createElement("div");
        line.className = "row";
        for (const b of row) {
          const button = document.createElement("button");
          button.type = "button";
          button.textContent = b.label;
          button.addEventListener("click", () => send({ payload: b.payload, label: b.label }));
          line.appendChild(button);
        }
        box.appendChild(line);
      }
      div.appendChild(box);
    }
    return div;
  }

  function show(messages) {
    for (const message of messages) {
      if (seen.has(message.key)) {
        const pending = log.querySelector('.pending[data-key="' + CSS.escape(message.key) + '"]');
        if (pending) pending.classList.remove("pending");
        continue;
      }
      seen.add(message.key);
      if (message.who === "user") disableButtons();
      log.appendChild(bubble(message));
    }
    log.scrollTop = log.scrollHeight;
  }

  async function fetchMessages(wait) {
    let url = API;
    if (since) url += "?since=" + encodeURIComponent(since) + (wait ? "&wait=1" : "");
    const response = await fetch(url, { credentials: "same-origin", cache: "no-store" });
    if (!response.ok) throw new Error("HTTP " + response.status);
    const data = await response.json();
    since = data.now;
    show(data.messages);
    return data.messages;
  }

  async function poll() {
    for (;;) {
      try {
        await fetchMessages(true);
        say("");
      } catch (err) {
        say("Mất kết nối, đang thử lại…");
        await new Promise((r) => setTimeout(r, 3000));
      }
    }
  }

  async function send(body) {
    body.id = newId();
    const key = "u:" + body.id;
    seen.add(key);
    disableButtons();
    const mine = bubble({ key: key, who: "user", text: body.text !== undefined ? body.text : body.label });
    mine.classList.add("pending");
    log.appendChild(mine);
    log.scrollTop = log.scrollHeight;
    // A network failure is retried with the same id: the server stores it once.
    for (let attempt = 0; attempt < 4; attempt++) {
      let response;
      try {
        response = await fetch(API, {
          method: "POST",
          credentials: "same-origin",
          headers: { "Content-Type": "application/json" },
          body: JSON.stringify(body),
        });
      } catch (err) {
        await new Promise((r) => setTimeout(r, 1000 * (attempt + 1)));
        continue;
      }
      if (response.ok) {
        say("");
        return true;
      }
      let message = "Không gửi được tin nhắn.";
      try { message = (await response.json()).error || message; } catch (e) { /* not JSON */ }
      mine.remove();
      seen.delete(key);
      say(message);
      return false;
    }
    mine.remove();
    seen.delete(key);
    say("Không gửi được tin nhắn: mất kết nối. Bạn hãy thử lại.");
    return false;
  }

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const text = input.value.trim();
    if (!text) { say("Bạn hãy gõ nội dung tin nhắn rồi bấm Gửi."); return; }
    input.value = "";
    if (!(await send({ text: text }))) input.value = text;
    input.focus();
  });
  input.addEventListener("keydown", (event) => {
    if (event.key === "Enter" && !event.shiftKey) {
      event.preventDefault();
      form.requestSubmit();
    }
  });

  (async function start() {
    let first = [];
    for (;;) {
      try { first = await fetchMessages(false); break; }
      catch (err) { say("Mất kết nối, đang thử lại…"); await new Promise((r) => setTimeout(r, 3000)); }
    }
    say("");
    // Buttons stay live only after the last thing the visitor sent.
    const bots = Array.from(log.querySelectorAll(".msg"));
    const lastUser = bots.map((d) => d.classList.contains("user")).lastIndexOf(true);
    bots.slice(0, lastUser + 1).forEach((d) => d.querySelectorAll("button").forEach((b) => { b.disabled = true; }));
    if (!first.length) await send({ text: "/start" });
    poll();
  })();
})();
