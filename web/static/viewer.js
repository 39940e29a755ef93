// The document viewer: one page at a time, thumbnails, keys, zoom, and search hits highlighted.
// Without this script the page shows every page image and its links.
(function () {
  "use strict";
  var viewer = document.getElementById("viewer");
  if (!viewer) { return; }
  var pages = Array.prototype.slice.call(viewer.querySelectorAll("section.page"));
  var thumbs = Array.prototype.slice.call(viewer.querySelectorAll(".thumbs a"));
  var tools = viewer.querySelector(".viewer-tools");
  var query = viewer.dataset.query || "";
  var current = 0, zoom = 1, mode = "fit";
  if (!pages.length) { return; }
  tools.hidden = false;
  viewer.classList.add("viewer-on");

  function figure() { return pages[current].querySelector("figure"); }

  function layout() {
    var fig = figure(), img = fig.querySelector("img");
    if (!img) { return; }  // a PDF page a worker has yet to render
    if (mode === "full") { img.style.width = (img.naturalWidth || 0) + "px"; }
    else { img.style.width = (zoom * 100) + "%"; }
    viewer.dataset.zoom = mode === "full" ? "full" : String(zoom);
    place(fig, img);
  }

  function place(fig, img) {
    var layer = fig.querySelector(".hit-boxes");
    if (!layer) { return; }
    layer.style.left = img.offsetLeft + "px";
    layer.style.top = img.offsetTop + "px";
    layer.style.width = img.offsetWidth + "px";
    layer.style.height = img.offsetHeight + "px";
  }

  function show(index) {
    current = Math.max(0, Math.min(pages.length - 1, index));
    pages.forEach(function (p, i) { p.classList.toggle("current", i === current); });
    thumbs.forEach(function (t, i) { t.classList.toggle("current", i === current); });
    tools.querySelector(".viewer-number").textContent = String(current + 1);
    viewer.dataset.page = String(current + 1);
    layout();
    highlight();
  }

  function setZoom(value) { mode = "zoom"; zoom = Math.max(0.25, Math.min(4, value)); layout(); }

  function act(name) {
    if (name === "prev") { show(current - 1); }
    else if (name === "next") { show(current + 1); }
    else if (name === "in") { setZoom(zoom * 1.25); }
    else if (name === "out") { setZoom(zoom / 1.25); }
    else if (name === "fit") { mode = "fit"; zoom = 1; layout(); }
    else if (name === "full") { mode = "full"; layout(); }
  }

  function terms() {
    return query.split(/\s+/).filter(function (t) { return t && t.indexOf(":") < 0; })
      .map(function (t) { return t.replace(/"/g, ""); }).filter(Boolean);
  }

  function markText(section) {
    var pre = section.querySelector("pre");
    if (!pre || pre.dataset.marked || !terms().length) { return; }
    pre.dataset.marked = "1";
    var escaped = terms().map(function (t) { return t.replace(/[.*+?^${}()|[\]\\]/g, "\\$&"); });
    var pattern = new RegExp("(" + escaped.join("|") + ")", "gi");
    var text = pre.textContent, parts = text.split(pattern);
    pre.textContent = "";
    parts.forEach(function (part, i) {
      if (i % 2) { var mark = document.createElement("mark"); mark.textContent = part; pre.appendChild(mark); }
      else { pre.appendChild(document.createTextNode(part)); }
    });
  }

  function highlight() {
    if (!query) { return; }
    var section = pages[current], fig = figure();
    markText(section);
    if (fig.dataset.loaded) { return; }
    fig.dataset.loaded = "1";
    fetch(fig.dataset.hits + "?q=" + encodeURIComponent(query), { credentials: "same-origin" })
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (data) {
        if (!data || !data.width) { return; }
        var layer = document.createElement("div");
        layer.className = "hit-boxes";
        data.boxes.forEach(function (b) {
          var box = document.createElement("span");
          box.className = "hit-box";
          box.style.left = (100 * b[0] / data.width) + "%";
          box.style.top = (100 * b[1] / data.height) + "%";
          box.style.width = (100 * (b[2] - b[0]) / data.width) + "%";
          box.style.height = (100 * (b[3] - b[1]) / data.height) + "%";
          layer.appendChild(box);
        });
        fig.classList.add("with-hits");
        var img = fig.querySelector("img");
        if (!img) { return; }
        fig.insertBefore(layer, img.nextSibling);
        if (img.complete) { place(fig, img); } else { img.addEventListener("load", function () { place(fig, img); }); }
      });
  }

  tools.addEventListener("click", function (event) {
    var name = event.target.dataset && event.target.dataset.act;
    if (name) { act(name); }
  });
  thumbs.forEach(function (t, i) {
    t.addEventListener("click", function (event) { event.preventDefault(); show(i); });
  });
  document.addEventListener("keydown", function (event) {
    var tag = (event.target.tagName || "").toLowerCase();
    if (tag === "input" || tag === "textarea" || tag === "select" || event.ctrlKey || event.metaKey || event.altKey) {
      return;
    }
    var keys = { ArrowLeft: "prev", ArrowRight: "next", "+": "in", "=": "in", "-": "out", "0": "fit", f: "full" };
    if (keys[event.key]) { event.preventDefault(); act(keys[event.key]); }
  });
  var start = /^#page-(\d+)$/.exec(location.hash);
  show(start ? parseInt(start[1], 10) - 1 : 0);
}());
