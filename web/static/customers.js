// Registration form: check the ID number or credit code as it is typed (format, check character, and
// whether it is registered) and show the answer beside the field before the form is sent. The server
// decides; the registered check is a guarded, audited lookup there, so only a complete key is sent.
(function () {
  "use strict";
  var form = document.getElementById("register-form");
  if (!form || !window.fetch) { return; }
  var kind = document.getElementById("id_type");
  var input = document.getElementById("identifier");
  var output = document.getElementById("identifier-check");
  var text = form.dataset;
  var token = document.querySelector('meta[name="csrf-token"]').getAttribute("content");
  var timer = null;
  var asked = "";

  function show(message, state, link) {
    output.textContent = message;
    output.className = "small check-" + state;
    input.setAttribute("aria-invalid", state === "invalid" || state === "registered" ? "true" : "false");
    if (link) {
      output.appendChild(document.createTextNode(" "));
      var a = document.createElement("a");
      a.href = link; a.textContent = text.textOpen;
      output.appendChild(a);
    }
  }

  function check() {
    var value = input.value.replace(/\s+/g, "").toUpperCase();
    var key = kind.value + ":" + value;
    if (!value) { asked = ""; show("", "empty"); return; }
    if (key === asked) { return; }
    asked = key;
    show(text.textChecking, "checking");
    // POSTed, so the number stays out of addresses, history and access logs.
    fetch(text.checkUrl, {
      method: "POST", credentials: "same-origin",
      headers: { "Accept": "application/json", "Content-Type": "application/json", "X-CSRFToken": token },
      body: JSON.stringify({ id_type: kind.value, identifier: value })
    })
      .then(function (response) { return response.json().then(function (body) { return [response.ok, body]; }); })
      .then(function (answer) {
        if (key !== asked) { return; }  // the field changed while this was on its way
        var body = answer[1];
        if (!answer[0]) { show(body.error ? body.error.message : text.textNetwork, "invalid"); asked = ""; return; }
        if (!body.valid) { show(body.message, "invalid"); return; }
        show(body.message, body.registered ? "registered" : "ok", body.customer_url);
      })
      .catch(function () { asked = ""; show(text.textNetwork, "invalid"); });
  }

  function later() {
    clearTimeout(timer);
    // An 18-character key is complete: check it at once; anything shorter once typing pauses.
    var length = input.value.replace(/\s+/g, "").length;
    timer = setTimeout(check, length >= 18 ? 50 : 600);
  }

  input.addEventListener("input", later);
  input.addEventListener("blur", check);
  kind.addEventListener("change", check);
})();
