// CivicShield pages: drag and drop onto file inputs, and per-file upload progress.
// Everything here is an enhancement: without JavaScript the same forms post normally.
(function () {
  "use strict";

  function csrfToken(form) {
    var field = form.querySelector("input[name=csrf_token]");
    return field ? field.value : "";
  }

  // Drop zones: dropping files fills the zone's file input, as if they had been chosen.
  function setupDropzone(zone) {
    var input = zone.querySelector("input[type=file]");
    if (!input) { return; }
    ["dragenter", "dragover"].forEach(function (name) {
      zone.addEventListener(name, function (event) { event.preventDefault(); zone.classList.add("over"); });
    });
    ["dragleave", "drop"].forEach(function (name) {
      zone.addEventListener(name, function () { zone.classList.remove("over"); });
    });
    zone.addEventListener("drop", function (event) {
      event.preventDefault();
      if (!event.dataTransfer || !event.dataTransfer.files.length) { return; }
      var files = new DataTransfer();
      var limit = input.multiple ? event.dataTransfer.files.length : 1;
      for (var i = 0; i < limit; i++) { files.items.add(event.dataTransfer.files[i]); }
      input.files = files.files;
      input.dispatchEvent(new Event("change", { bubbles: true }));
    });
  }

  // Upload form: one request per file so each row shows its own progress, then the server's row
  // (with the job status that htmx keeps polling) replaces the progress bar.
  function uploadOne(form, file, list) {
    var row = document.createElement("li");
    row.className = "upload-row";
    var name = document.createElement("span");
    name.className = "name";
    name.textContent = file.name;
    var bar = document.createElement("progress");
    bar.max = 100;
    bar.value = 0;
    bar.setAttribute("aria-label", file.name);
    row.appendChild(name);
    row.appendChild(bar);
    list.appendChild(row);

    var data = new FormData();
    data.append("csrf_token", csrfToken(form));
    data.append("files", file, file.name);
    var xhr = new XMLHttpRequest();
    xhr.open("POST", form.action);
    xhr.setRequestHeader("HX-Request", "true");
    xhr.setRequestHeader("X-CSRF-Token", csrfToken(form));
    xhr.upload.addEventListener("progress", function (event) {
      if (event.lengthComputable) { bar.value = Math.round(100 * event.loaded / event.total); }
    });
    xhr.addEventListener("load", function () {
      var holder = document.createElement("ul");
      holder.innerHTML = xhr.responseText;
      var fresh = holder.querySelector("li") || holder.firstElementChild;
      if (fresh) {
        row.replaceWith(fresh);
        if (window.htmx) { window.htmx.process(fresh); }
      } else {
        bar.remove();
        row.appendChild(document.createTextNode(" " + xhr.status));
      }
    });
    xhr.addEventListener("error", function () {
      bar.remove();
      row.appendChild(document.createTextNode(" ✖ " + (form.dataset.failed || "upload failed")));
    });
    xhr.send(data);
  }

  function setupUpload(form) {
    var input = form.querySelector("input[type=file]");
    var list = document.getElementById("upload-results");
    if (!input || !list || !window.FormData || !window.XMLHttpRequest) { return; }
    form.addEventListener("submit", function (event) {
      if (!input.files || !input.files.length) { return; }
      event.preventDefault();
      var empty = document.querySelector("[data-empty]");
      if (empty) { empty.remove(); }
      Array.prototype.forEach.call(input.files, function (file) { uploadOne(form, file, list); });
      form.reset();
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("[data-dropzone]").forEach(setupDropzone);
    document.querySelectorAll("form[data-upload]").forEach(setupUpload);
  });

  // Passkeys (WebAuthn): the browser talks to the authenticator; the JSON helpers of WebAuthn Level 3
  // (parseCreationOptionsFromJSON, toJSON) carry the options and answers to and from the API.
  function say(el, text) {
    var out = document.getElementById(el.getAttribute("data-status") || "");
    if (out) { out.textContent = text; }
  }

  function postJSON(url, body, csrf) {
    var headers = { "Content-Type": "application/json" };
    if (csrf) { headers["X-CSRF-Token"] = csrf; }
    return fetch(url, { method: "POST", headers: headers, body: JSON.stringify(body || {}), credentials: "same-origin" })
      .then(function (r) {
        return r.json().then(function (data) {
          if (!r.ok) { throw new Error((data.error && data.error.message) || r.statusText); }
          return data;
        });
      });
  }

  function setupPasskeyAdd(button) {
    button.addEventListener("click", function () {
      var csrf = csrfToken(button.closest("form") || document);
      postJSON("/api/v1/me/passkeys/options", {}, csrf)
        .then(function (options) {
          return navigator.credentials.create({ publicKey: PublicKeyCredential.parseCreationOptionsFromJSON(options) });
        })
        .then(function (credential) {
          return postJSON("/api/v1/me/passkeys", { credential: credential.toJSON(), name: "passkey" }, csrf);
        })
        .then(function () { say(button, button.getAttribute("data-done") || "OK"); window.location.reload(); })
        .catch(function (err) { say(button, String(err.message || err)); });
    });
  }

  function setupPasskeyLogin(button) {
    button.addEventListener("click", function () {
      postJSON("/api/v1/passkeys/login/options", {})
        .then(function (options) {
          return navigator.credentials.get({ publicKey: PublicKeyCredential.parseRequestOptionsFromJSON(options) });
        })
        .then(function (credential) { return postJSON("/api/v1/passkeys/login", { credential: credential.toJSON() }); })
        .then(function () { window.location.assign(button.getAttribute("data-next") || "/ui/"); })
        .catch(function (err) { say(button, String(err.message || err)); });
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    if (!window.PublicKeyCredential) { return; }
    document.querySelectorAll("[data-passkey=add]").forEach(function (b) { b.hidden = false; setupPasskeyAdd(b); });
    document.querySelectorAll("[data-passkey=login]").forEach(function (b) { b.hidden = false; setupPasskeyLogin(b); });
  });
})();
