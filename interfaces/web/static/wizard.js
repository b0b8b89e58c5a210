// The listing wizard: show only the chosen category's fields (and the opening hours and
// buffer only for hourly listings, the weekday prices only for the others), and fill the place from a
// picked city suggestion. Without JavaScript every group shows and the server resolves the city.
(function () {
  "use strict";
  var category = document.getElementById("f-category");
  function toggle() {
    document.querySelectorAll(".category-group").forEach(function (group) {
      group.hidden = group.dataset.category !== category.value;
    });
  }
  if (category) { category.addEventListener("change", toggle); toggle(); }
  // Opening hours are for hourly listings only.
  var unit = document.getElementById("f-booking_unit");
  var hours = document.getElementById("opening-hours");
  // Weekday prices are for nights and days; the turnover buffer for hourly slots.
  var weekdayPrices = document.getElementById("weekday-prices");
  var buffer = document.getElementById("buffer-field");
  function toggleHours() {
    hours.hidden = unit.value !== "hour";
    if (buffer) { buffer.hidden = unit.value !== "hour"; }
    if (weekdayPrices) { weekdayPrices.hidden = unit.value === "hour"; }
  }
  if (unit && hours) { unit.addEventListener("change", toggleHours); toggleHours(); }
  document.addEventListener("click", function (e) {
    var pick = e.target.closest(".place-pick");
    if (!pick) { return; }
    document.getElementById("f-city").value = pick.dataset.name;
    document.getElementById("f-lat").value = pick.dataset.lat;
    document.getElementById("f-lng").value = pick.dataset.lng;
    document.getElementById("f-country").value = pick.dataset.country;
    document.getElementById("city-suggestions").innerHTML = "";
  });
  var city = document.getElementById("f-city");
  if (city) {
    city.addEventListener("input", function () {
      ["f-lat", "f-lng", "f-country"].forEach(function (id) { document.getElementById(id).value = ""; });
    });
  }
})();
