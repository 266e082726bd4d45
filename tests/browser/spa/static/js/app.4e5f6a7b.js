// A single-page app as Pleroma-FE logs in: register an app, get a token with the password grant
// (which also sets the `_pleroma_key` session cookie), then read the API with the cookie alone
// (no Authorization header: the token is deliberately thrown away).
"use strict";

async function api(method, path, body, form) {
  const options = { method, credentials: "same-origin", headers: { Accept: "application/json" } };
  if (form) {
    options.body = new URLSearchParams(body);
  } else if (body) {
    options.headers["Content-Type"] = "application/json";
    options.body = JSON.stringify(body);
  }
  const response = await fetch(path, options);
  const data = await response.json();
  if (!response.ok) throw new Error(`${method} ${path}: ${response.status} ${data.error}`);
  return data;
}

async function logIn(username, password) {
  const app = await api("POST", "/api/v1/apps", {
    client_name: "fixture-fe", redirect_uris: "urn:ietf:wg:oauth:2.0:oob", scopes: "read write",
  });
  await api("POST", "/oauth/token", {
    grant_type: "password", username, password, client_id: app.client_id,
    client_secret: app.client_secret, scope: "read write",
  }, true);
  const me = await api("GET", "/api/v1/accounts/verify_credentials");
  document.getElementById("me").textContent = `@${me.acct}`;
  const home = await api("GET", "/api/v1/timelines/home");
  const list = document.getElementById("timeline");
  for (const status of home) {
    const item = document.createElement("li");
    item.className = "status";
    const text = new DOMParser().parseFromString(status.content, "text/html").body.textContent;
    item.textContent = `${status.account.acct}: ${text}`;
    list.appendChild(item);
  }
  document.getElementById("status").textContent = `logged in, ${home.length} statuses`;
}

document.getElementById("login").addEventListener("submit", (event) => {
  event.preventDefault();
  const username = document.getElementById("username").value;
  const password = document.getElementById("password").value;
  logIn(username, password).catch((error) => {
    document.getElementById("status").textContent = `error: ${error.message}`;
  });
});
document.getElementById("status").textContent = `ready at ${location.pathname}`;
