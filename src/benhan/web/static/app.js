// Bệnh Án clinician app: keyboard shortcuts and type-ahead lists. No inline scripts (CSP: script-src 'self').
(function () {
  "use strict";

  // "/" focuses the page's main search box; elements with data-hotkey="x" are clicked by Alt+x.
  document.addEventListener("keydown", function (ev) {
    var tag = (ev.target && ev.target.tagName) || "";
    var typing = tag === "INPUT" || tag === "TEXTAREA" || tag === "SELECT";
    if (ev.key === "/" && !typing) {
      var box = document.querySelector("[data-search]");
      if (box) { ev.preventDefault(); box.focus(); box.select && box.select(); }
      return;
    }
    if (ev.altKey && !ev.ctrlKey && !ev.metaKey && ev.key.length === 1) {
      var target = document.querySelector('[data-hotkey="' + ev.key.toLowerCase() + '"]');
      if (target) { ev.preventDefault(); target.focus(); target.click(); }
    }
  });

  // Type-ahead lists (<ul class="suggestions" role="listbox"> after an input with data-suggest):
  // arrow keys move, Enter picks, Escape closes. Picking fills the inputs named in data-fill-* attributes.
  function options(list) { return Array.prototype.slice.call(list.querySelectorAll('[role="option"]')); }
  function listFor(input) {
    var id = input.getAttribute("aria-controls");
    return id ? document.getElementById(id) : null;
  }
  function pick(input, option) {
    var form = input.form || document;
    Array.prototype.forEach.call(option.attributes, function (attr) {
      if (attr.name.indexOf("data-fill-") === 0) {
        var field = form.querySelector('[name="' + attr.name.slice(10) + '"]');
        if (field) { field.value = attr.value; field.dispatchEvent(new Event("change", { bubbles: true })); }
      }
    });
    if (option.dataset.label !== undefined) { input.value = option.dataset.label; }
    var list = listFor(input);
    if (list) { list.innerHTML = ""; }
    input.dispatchEvent(new CustomEvent("suggest:picked", { bubbles: true, detail: option.dataset }));
    if (option.dataset.href) { window.location.href = option.dataset.href; }
  }
  document.addEventListener("keydown", function (ev) {
    var input = ev.target;
    if (!input || !input.hasAttribute || !input.hasAttribute("data-suggest")) { return; }
    var list = listFor(input);
    if (!list) { return; }
    var opts = options(list);
    if (!opts.length) { return; }
    var current = opts.findIndex(function (o) { return o.getAttribute("aria-selected") === "true"; });
    if (ev.key === "ArrowDown" || ev.key === "ArrowUp") {
      ev.preventDefault();
      var next = ev.key === "ArrowDown" ? Math.min(current + 1, opts.length - 1) : Math.max(current - 1, 0);
      opts.forEach(function (o, i) { o.setAttribute("aria-selected", i === next ? "true" : "false"); });
      input.setAttribute("aria-activedescendant", opts[next].id || "");
    } else if (ev.key === "Enter" && current >= 0) {
      ev.preventDefault();
      pick(input, opts[current]);
    } else if (ev.key === "Escape") {
      list.innerHTML = "";
    }
  });
  document.addEventListener("click", function (ev) {
    var option = ev.target.closest && ev.target.closest('.suggestions [role="option"]');
    if (!option) { return; }
    var list = option.closest(".suggestions");
    var input = document.querySelector('[aria-controls="' + list.id + '"]');
    if (input) { pick(input, option); }
  });

  // Buttons with data-print print the page.
  document.addEventListener("click", function (ev) {
    if (ev.target.closest && ev.target.closest("[data-print]")) { window.print(); }
  });
})();
