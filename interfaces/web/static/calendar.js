// Drag across the owner's calendar to fill the block form (first day, day after the last)
// and the price form (first day). The date inputs stay the keyboard way to do the same.
(function () {
  "use strict";
  var grid = document.querySelector("[data-drag-select]");
  if (!grid) return;
  var anchor = null, current = null;

  function cell(target) {
    return target && target.closest ? target.closest("[data-date]") : null;
  }
  function nextDay(iso) {
    var d = new Date(iso + "T00:00:00Z");
    d.setUTCDate(d.getUTCDate() + 1);
    return d.toISOString().slice(0, 10);
  }
  function paint() {
    var lo = anchor < current ? anchor : current, hi = anchor < current ? current : anchor;
    grid.querySelectorAll("[data-date]").forEach(function (el) {
      var on = anchor !== null && el.dataset.date >= lo && el.dataset.date <= hi;
      el.classList.toggle("picked", on);
    });
    return [lo, hi];
  }
  function set(id, value) {
    var input = document.getElementById(id);
    if (input) input.value = value;
  }
  grid.addEventListener("pointerdown", function (e) {
    var c = cell(e.target);
    if (!c) return;
    e.preventDefault();
    anchor = current = c.dataset.date;
    paint();
  });
  grid.addEventListener("pointerover", function (e) {
    var c = cell(e.target);
    if (anchor === null || !c) return;
    current = c.dataset.date;
    paint();
  });
  document.addEventListener("pointerup", function () {
    if (anchor === null) return;
    var range = paint();
    set("f-block_start", range[0]);
    set("f-block_end", nextDay(range[1]));
    set("f-price_date", range[0]);
    anchor = null;
  });
})();
