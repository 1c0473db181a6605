// The console's passkey ceremonies (service/console/passkeys.py): sign in with a discoverable
// passkey, and add one from the Passkeys page. Loaded as a file (the CSP allows no inline script);
// it posts JSON with the page's CSRF token in the body and follows the answer's location.
"use strict";
(function () {
  function supported() {
    return Boolean(
      window.PublicKeyCredential &&
        typeof PublicKeyCredential.parseRequestOptionsFromJSON === "function" &&
        typeof PublicKeyCredential.parseCreationOptionsFromJSON === "function"
    );
  }

  function csrf() {
    const field = document.querySelector('input[name="csrf_token"]');
    return field ? field.value : "";
  }

  function show(message) {
    const box = document.getElementById("passkey-error");
    if (box) {
      box.textContent = message;
      box.hidden = false;
    }
  }

  // The page's words for these, in the operator's language (data-* of the error box), else English.
  function said(key, english) {
    const box = document.getElementById("passkey-error");
    return (box && box.dataset[key]) || english;
  }

  async function post(path, body) {
    const response = await fetch(path, {
      method: "POST",
      credentials: "same-origin",
      headers: { "content-type": "application/json", accept: "application/json" },
      body: JSON.stringify(body),
    });
    let answer = null;
    try {
      answer = await response.json();
    } catch (ignored) {
      answer = null;
    }
    return { ok: response.ok, body: answer };
  }

  function refusal(result, otherwise) {
    const body = result.body;
    return (body && (body.detail || body.title)) || otherwise;
  }

  async function signIn() {
    const token = csrf();
    const flow = await post("/console/sign-in/passkey/options", { csrf_token: token });
    if (!flow.ok) return show(refusal(flow, said("reload", "Reload the page and try again.")));
    let credential;
    try {
      credential = await navigator.credentials.get({
        publicKey: PublicKeyCredential.parseRequestOptionsFromJSON(flow.body.options),
      });
    } catch (ignored) {
      return show(said("notUsed", "No passkey was used."));
    }
    const answer = await post("/console/sign-in/passkey", {
      csrf_token: token,
      flow_id: flow.body.flow_id,
      credential: credential.toJSON(),
    });
    if (!answer.ok) return show(refusal(answer, said("notAccepted", "The passkey was not accepted.")));
    window.location.assign(answer.body.location);
  }

  async function enrol(form) {
    const token = csrf();
    const name = form.elements.name.value;
    const options = await post("/console/passkeys/options", {
      csrf_token: token,
      password: form.elements.password.value,
    });
    form.elements.password.value = "";
    if (!options.ok) return show(refusal(options, said("reload", "Reload the page and try again.")));
    let credential;
    try {
      credential = await navigator.credentials.create({
        publicKey: PublicKeyCredential.parseCreationOptionsFromJSON(options.body),
      });
    } catch (ignored) {
      return show(said("notCreated", "No passkey was created."));
    }
    const enrolled = await post("/console/passkeys/enrolment", {
      csrf_token: token,
      name: name,
      credential: credential.toJSON(),
    });
    if (!enrolled.ok) return show(refusal(enrolled, said("notAdded", "The passkey was not added.")));
    window.location.assign(enrolled.body.location);
  }

  const signInButton = document.getElementById("passkey-sign-in");
  const enrolForm = document.getElementById("passkey-enrol");
  if (!supported()) {
    if (signInButton || enrolForm) show(said("unsupported", "This browser cannot use passkeys here."));
    return;
  }
  if (signInButton) {
    signInButton.hidden = false;
    signInButton.addEventListener("click", function () {
      signIn().catch(function () {
        show("Signing in with a passkey failed; try again.");
      });
    });
  }
  if (enrolForm) {
    document.getElementById("passkey-enrol-button").disabled = false;
    enrolForm.addEventListener("submit", function (event) {
      event.preventDefault();
      enrol(enrolForm).catch(function () {
        show("Adding a passkey failed; try again.");
      });
    });
  }
})();
