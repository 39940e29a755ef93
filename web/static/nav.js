// On a narrow screen the top bar's menu folds behind a button (style.css); without this script it wraps.
(function () {
  "use strict";
  var bar = document.querySelector(".topbar");
  var button = bar && bar.querySelector(".menu-toggle");
  if (!button) { return; }
  bar.classList.add("foldable");
  button.addEventListener("click", function () {
    button.setAttribute("aria-expanded", String(bar.classList.toggle("open")));
  });
}());
