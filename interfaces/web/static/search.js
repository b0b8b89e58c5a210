// The search page: a Leaflet map of the results (moving it searches the visible box) and the
// city suggestions under "Where". Without JavaScript the form and the list still work.
(function () {
  "use strict";
  var form = document.getElementById("search");
  var mapEl = document.getElementById("map");
  if (!form || !mapEl || !window.L) { return; }
  var bbox = document.getElementById("f-bbox");
  var lat = document.getElementById("f-lat");
  var lng = document.getElementById("f-lng");
  var map = L.map(mapEl, { zoomControl: true }).setView([30, 0], 2);
  var tiles = mapEl.dataset.tiles;
  if (tiles) { L.tileLayer(tiles, { maxZoom: 18, attribution: "© OpenStreetMap contributors" }).addTo(map); }
  var layer = L.layerGroup().addTo(map);
  var programmatic = false;

  function markers() {
    var el = document.getElementById("markers");
    layer.clearLayers();
    var points = el ? JSON.parse(el.textContent || "[]") : [];
    points.forEach(function (p) {
      var link = document.createElement("a");
      link.href = "/listings/" + p.id;
      link.textContent = p.title;  // text, never HTML
      L.marker([p.lat, p.lng], { title: p.title, alt: p.title }).bindPopup(link).addTo(layer);
    });
    if (points.length && !bbox.value) {
      programmatic = true;
      map.fitBounds(L.latLngBounds(points.map(function (p) { return [p.lat, p.lng]; })), { maxZoom: 12, padding: [20, 20], animate: false });
      setTimeout(function () { programmatic = false; }, 0);
    }
  }
  if (bbox.value) {
    var b = bbox.value.split(",").map(Number);
    if (b.length === 4) { programmatic = true; map.fitBounds([[b[1], b[0]], [b[3], b[2]]], { animate: false }); setTimeout(function () { programmatic = false; }, 0); }
  }
  markers();
  map.on("moveend", function () {
    if (programmatic) { return; }
    var box = map.getBounds();
    bbox.value = [box.getWest(), box.getSouth(), box.getEast(), box.getNorth()].map(function (v) { return v.toFixed(4); }).join(",");
    lat.value = ""; lng.value = "";
    htmx.trigger(form, "submit");
  });
  document.body.addEventListener("htmx:afterSwap", function (e) {
    if (e.detail.target && e.detail.target.id === "results") { markers(); }
  });
  document.addEventListener("click", function (e) {
    var pick = e.target.closest(".place-pick");
    if (!pick) { return; }
    document.getElementById("f-place").value = pick.dataset.name;
    lat.value = pick.dataset.lat; lng.value = pick.dataset.lng; bbox.value = "";
    document.getElementById("place-suggestions").innerHTML = "";
    programmatic = true;
    map.setView([Number(pick.dataset.lat), Number(pick.dataset.lng)], 11, { animate: false });
    setTimeout(function () { programmatic = false; }, 0);
    htmx.trigger(form, "submit");
  });
  form.addEventListener("input", function (e) {
    if (e.target.id === "f-place") { lat.value = ""; lng.value = ""; }
  });
})();
