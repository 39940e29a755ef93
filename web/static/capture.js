// Capture page: upload the chosen files one by one with a progress bar each, then poll OCR progress.
// Without JavaScript the form posts normally.
(function () {
  "use strict";
  var form = document.getElementById("capture-form");
  if (!form || !window.FormData || !window.XMLHttpRequest) { return; }
  var list = document.getElementById("capture-progress");
  var token = document.querySelector('meta[name="csrf-token"]').getAttribute("content");
  var text = form.dataset;

  function element(tag, className, content) {
    var node = document.createElement(tag);
    if (className) { node.className = className; }
    if (content !== undefined) { node.textContent = content; }
    return node;
  }

  function row(file) {
    var item = element("div", "progress-item");
    item.appendChild(element("div", "name", file.name));
    var bar = element("progress");
    bar.max = 100; bar.value = 0;
    item.appendChild(bar);
    var state = element("div", "state", text.textUploading);
    item.appendChild(state);
    list.appendChild(item);
    return { item: item, bar: bar, state: state };
  }

  function upload(file, ui) {
    return new Promise(function (resolve) {
      var data = new FormData();
      ["customer", "customer_name", "document_type", "classification", "dossier", "title"].forEach(function (name) {
        var field = form.elements[name];
        if (field && field.value) { data.append(name, field.value); }
      });
      data.append("files", file, file.name);
      var xhr = new XMLHttpRequest();
      xhr.open("POST", text.uploadUrl);
      xhr.setRequestHeader("X-CSRFToken", token);
      xhr.setRequestHeader("Accept", "application/json");
      xhr.upload.onprogress = function (event) {
        if (event.lengthComputable) { ui.bar.value = Math.round(100 * event.loaded / event.total); }
      };
      xhr.onload = function () {
        var body = {};
        try { body = JSON.parse(xhr.responseText); } catch (e) { body = {}; }
        if (xhr.status === 201 && body.documents && body.documents.length) {
          var doc = body.documents[0];
          ui.bar.value = 100;
          ui.state.textContent = "";
          ui.state.appendChild(document.createTextNode(text.textUploaded + " → "));
          var link = element("a", "mono", doc.archive_code);
          link.href = doc.url;
          ui.state.appendChild(link);
          resolve({ id: doc.document_id, ui: ui });
        } else {
          var message = (body.errors && body.errors.length && body.errors[0].error) || body.error || xhr.statusText;
          ui.item.classList.add("refused");
          ui.state.textContent = text.textFailed + ": " + message;
          resolve(null);
        }
      };
      xhr.onerror = function () {
        ui.item.classList.add("refused");
        ui.state.textContent = text.textFailed + ": " + text.textNetwork;
        resolve(null);
      };
      xhr.send(data);
    });
  }

  function poll(captured) {
    if (!captured.length) { return; }
    var ids = captured.map(function (c) { return c.id; }).join(",");
    var xhr = new XMLHttpRequest();
    xhr.open("GET", text.progressUrl + "?ids=" + encodeURIComponent(ids));
    xhr.setRequestHeader("Accept", "application/json");
    xhr.onload = function () {
      if (xhr.status !== 200) { return; }
      var body = JSON.parse(xhr.responseText);
      captured.forEach(function (c) {
        var p = body.documents[String(c.id)];
        if (!p) { return; }
        if (!c.ocr) {
          c.ocr = element("div", "state");
          c.ocrBar = element("progress");
          c.ui.item.appendChild(c.ocrBar);
          c.ui.item.appendChild(c.ocr);
        }
        c.ocrBar.max = Math.max(p.pages_total, 1);
        c.ocrBar.value = p.pages_done + p.pages_failed;
        c.ocr.textContent = text.textOcr + ": " + p.pages_done + " / " + p.pages_total +
          (p.pages_failed ? " (" + p.pages_failed + " ✕)" : "") +
          (p.status === "failed" ? " — " + text.textOcrFailed + ": " + p.failure_reason :
           p.all_recognised ? " — " + text.textDone : "");
        var rescan = p.rescan_pages || [];
        if (rescan.length && !c.rescan) {
          // Read, but too poorly to trust: say so and link each page (never "all pages recognised").
          c.rescan = element("div", "state rescan-needed", text.textRescan + ": ");
          rescan.forEach(function (page, index) {
            var link = element("a", "", text.textPage + " " + page.number);
            link.href = page.url;
            if (index) { c.rescan.appendChild(document.createTextNode(", ")); }
            c.rescan.appendChild(link);
          });
          c.ui.item.appendChild(c.rescan);
        }
        c.ui.item.classList.toggle("ocr-failed", p.status === "failed");
        c.ui.item.classList.toggle("needs-rescan", rescan.length > 0);
      });
      if (!body.finished) { window.setTimeout(function () { poll(captured); }, 1500); }
    };
    xhr.send();
  }

  form.addEventListener("submit", function (event) {
    var files = Array.prototype.slice.call(form.elements.files.files);
    if (!files.length || !form.reportValidity()) { return; }
    event.preventDefault();
    list.hidden = false;
    list.textContent = "";
    var button = form.querySelector("button[type=submit]");
    button.disabled = true;
    var captured = [];
    files.reduce(function (chain, file) {
      return chain.then(function () {
        return upload(file, row(file)).then(function (done) { if (done) { captured.push(done); } });
      });
    }, Promise.resolve()).then(function () {
      button.disabled = false;
      form.elements.files.value = "";
      poll(captured);
    });
  });
})();
