// pam_passwordless: the "Sign in with your browser" callback page's script.
// Copyright the pam_passwordless authors. SPDX-License-Identifier: Apache-2.0
// Licensed under the Apache License, Version 2.0; see http://www.apache.org/licenses/LICENSE-2.0
//
// Reads `code`, `state`, `error` and `error_description` from the address and shows them; unknown parameters are
// ignored. Nothing is sent anywhere. The format of `state` (produced by the helper) is in README.md here:
//   state = TAG LABEL, TAG = 22 characters (base64url of 16 bytes), LABEL = base64url(UTF-8 JSON
//   {"host": "...", "user": "...", "exp": <unix seconds>}), both without padding, so only [A-Za-z0-9_-].
"use strict";

const TAG_LENGTH = 22;

function decodeLabel(state) {
  if (typeof state !== "string" || !/^[A-Za-z0-9_-]+$/.test(state) || state.length <= TAG_LENGTH) return null;
  try {
    const b64 = state.slice(TAG_LENGTH).replace(/-/g, "+").replace(/_/g, "/");
    const bytes = Uint8Array.from(atob(b64 + "=".repeat((4 - (b64.length % 4)) % 4)), (c) => c.charCodeAt(0));
    const label = JSON.parse(new TextDecoder("utf-8", {fatal: true}).decode(bytes));
    if (typeof label !== "object" || label === null || typeof label.host !== "string" ||
        typeof label.user !== "string" || typeof label.exp !== "number") {
      return null;
    }
    return label;
  } catch (e) {
    return null;
  }
}

function show(id) {
  document.getElementById(id).hidden = false;
}

function text(id, value) {
  document.getElementById(id).textContent = value;
}

function main() {
  const query = new URLSearchParams(window.location.search);
  // The code stays out of the history and of any later address bar.
  if (window.location.search) history.replaceState(null, "", window.location.pathname);
  const error = query.get("error");
  const code = query.get("code");
  if (error !== null) {
    text("error", error);
    text("error-description", query.get("error_description") || "");
    show("failure");
    return;
  }
  if (!code) {
    show("nothing");
    return;
  }
  // Shown whole: the code's format is not guaranteed (spec §5), so no shortening; a UUID is already grouped
  // by its hyphens.
  text("code", code);
  const label = decodeLabel(query.get("state"));
  if (label) {
    text("host", label.host);
    text("account", label.user);
    text("expiry", new Date(label.exp * 1000).toLocaleString());
    show("request");
    if (label.exp * 1000 < Date.now()) show("expired");
  } else {
    show("label-missing");
  }
  show("success");
  document.getElementById("copy").addEventListener("click", async () => {
    try {
      await navigator.clipboard.writeText(code);
      text("copied", "Copied.");
    } catch (e) {
      const range = document.createRange();
      range.selectNodeContents(document.getElementById("code"));
      window.getSelection().removeAllRanges();
      window.getSelection().addRange(range);
      text("copied", "Selected: copy it with your keyboard or menu.");
    }
  });
}

main();
