// pam_passwordless: the "Sign in with your browser" callback page's script, which is also its launcher.
// Copyright the pam_passwordless authors. SPDX-License-Identifier: Apache-2.0
// Licensed under the Apache License, Version 2.0; see http://www.apache.org/licenses/LICENSE-2.0
//
// Two modes (README.md here has the formats):
// - callback: opened with ?code= or ?error= (the user pool's redirect): reads `code`, `state`, `error` and
//   `error_description` and shows them; unknown parameters are ignored; nothing is sent anywhere.
// - launch: opened with a #fragment and no code or error (the short link the prompt shows):
//   fragment = "1.<PKCE challenge>.<exp base36>.<base64url user>.<base64url host>". Reads pool.json from this
//   page's own folder and sends the browser to https://<pool.json domain>/oauth2/authorize with this page's own
//   address (no query, no fragment) as redirect_uri. Nothing in the fragment chooses the host, the client or
//   the redirect URI. An unreadable fragment or pool.json shows an error and goes nowhere.
// state = "1" + base64url(UTF-8 "<exp base36>\n<user>\n<host>") (only [A-Za-z0-9_-], no padding).
"use strict";

const VERSION = "1";

function b64urlToBytes(text) {
  if (typeof text !== "string" || !/^[A-Za-z0-9_-]*$/.test(text) || text.length % 4 === 1) return null;
  try {
    const b64 = text.replace(/-/g, "+").replace(/_/g, "/");
    return Uint8Array.from(atob(b64 + "=".repeat((4 - (b64.length % 4)) % 4)), (c) => c.charCodeAt(0));
  } catch (e) {
    return null;
  }
}

function bytesToB64url(bytes) {
  let binary = "";
  for (const b of bytes) binary += String.fromCharCode(b);
  return btoa(binary).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

// UTF-8 text without control characters, 1 to 255 bytes; otherwise null.
function labelText(bytes) {
  if (bytes === null || bytes.length < 1 || bytes.length > 255) return null;
  try {
    const value = new TextDecoder("utf-8", {fatal: true}).decode(bytes);
    return /[\u0000-\u001f\u007f-\u009f]/.test(value) ? null : value;
  } catch (e) {
    return null;
  }
}

function parseExp(text) {
  if (typeof text !== "string" || !/^[0-9a-z]{1,10}$/.test(text)) return null;
  return parseInt(text, 36);
}

// {host, user, exp} of a state, or null.
function decodeState(state) {
  if (typeof state !== "string" || state.length < 2 || state[0] !== VERSION) return null;
  const bytes = b64urlToBytes(state.slice(1));
  if (bytes === null) return null;
  let parts;
  try {
    parts = new TextDecoder("utf-8", {fatal: true}).decode(bytes).split("\n");
  } catch (e) {
    return null;
  }
  if (parts.length !== 3) return null;
  const exp = parseExp(parts[0]);
  const enc = new TextEncoder();
  const user = labelText(enc.encode(parts[1]));
  const host = labelText(enc.encode(parts[2]));
  if (exp === null || user === null || host === null) return null;
  return {host, user, exp};
}

// {challenge, exp, user, host, userBytes, hostBytes} of a launch fragment, or null.
function decodeFragment(hash) {
  const fields = hash.replace(/^#/, "").split(".");
  if (fields.length !== 5 || fields[0] !== VERSION) return null;
  const [, challenge, expText, userText, hostText] = fields;
  if (!/^[A-Za-z0-9_-]{43}$/.test(challenge)) return null;
  const exp = parseExp(expText);
  const userBytes = b64urlToBytes(userText);
  const hostBytes = b64urlToBytes(hostText);
  const user = labelText(userBytes);
  const host = labelText(hostBytes);
  if (exp === null || user === null || host === null) return null;
  return {challenge, exp, expText, user, host, userBytes, hostBytes};
}

// pool.json's {domain, client_id, scopes}, checked as the helper checks [browser]; otherwise null.
function checkPool(pool) {
  if (typeof pool !== "object" || pool === null) return null;
  const {domain, client_id: clientId, scopes} = pool;
  if (typeof domain !== "string" || !/^[A-Za-z0-9.-]{1,253}(:[0-9]{1,5})?$/.test(domain)) return null;
  if (typeof clientId !== "string" || !/^[A-Za-z0-9_+]{1,128}$/.test(clientId)) return null;
  if (!Array.isArray(scopes) || scopes.length < 1 || scopes.length > 16 || !scopes.includes("openid")) return null;
  if (!scopes.every((s) => typeof s === "string" && /^[A-Za-z0-9._:/+-]{1,256}$/.test(s))) return null;
  return {domain, clientId, scopes};
}

function show(id) {
  document.getElementById(id).hidden = false;
}

function hide(id) {
  document.getElementById(id).hidden = true;
}

function text(id, value) {
  document.getElementById(id).textContent = value;
}

function launchFailed(why) {
  hide("launching");
  text("launch-error", why);
  show("launch-failed");
}

async function launch() {
  show("launching");
  const request = decodeFragment(window.location.hash);
  if (request === null) {
    launchFailed("The link is damaged or incomplete: copy it again from the prompt.");
    return;
  }
  text("launch-host", request.host);
  text("launch-account", request.user);
  let pool = null;
  try {
    const response = await fetch(new URL("pool.json", window.location.href).href,
                                 {cache: "no-store", credentials: "omit", redirect: "error"});
    if (response.ok) pool = checkPool(await response.json());
  } catch (e) {
    pool = null;
  }
  if (pool === null) {
    launchFailed("This page has no usable pool.json beside it: the administrator must write it (see its README).");
    return;
  }
  const label = new Uint8Array([...new TextEncoder().encode(request.expText), 0x0a, ...request.userBytes, 0x0a,
                                ...request.hostBytes]);
  const state = VERSION + bytesToB64url(label);
  const redirectUri = window.location.origin + window.location.pathname;
  const params = [
    ["response_type", "code"], ["client_id", pool.clientId], ["redirect_uri", redirectUri],
    ["scope", pool.scopes.join(" ")], ["state", state], ["nonce", request.challenge],
    ["code_challenge", request.challenge], ["code_challenge_method", "S256"], ["prompt", "login"]
  ];
  const query = params.map(([k, v]) => k + "=" + encodeURIComponent(v)).join("&");
  window.location.replace("https://" + pool.domain + "/oauth2/authorize?" + query);
}

function callback(query) {
  // The code stays out of the history and of any later address bar.
  history.replaceState(null, "", window.location.pathname);
  const error = query.get("error");
  const code = query.get("code");
  if (error !== null) {
    text("error", error);
    text("error-description", query.get("error_description") || "");
    show("failure");
    return;
  }
  // Shown whole: the code's format is not guaranteed (spec §5), so no shortening; a UUID is already grouped
  // by its hyphens.
  text("code", code);
  const label = decodeState(query.get("state"));
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

function main() {
  const query = new URLSearchParams(window.location.search);
  if (query.get("error") !== null || query.get("code")) {
    callback(query);
  } else if (window.location.hash.length > 1) {
    launch();
  } else {
    if (window.location.search) history.replaceState(null, "", window.location.pathname);
    show("nothing");
  }
}

// A link pasted into a tab that shows this page already differs only in its fragment: the browser then keeps the
// document and only tells it; load it afresh so the new link is read like the first.
window.addEventListener("hashchange", () => window.location.reload());

main();
