// The listing wizard: show only the chosen category's fields (and the opening hours only
// for hourly listings), and fill the place from a
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
  function toggleHours() { hours.hidden = unit.value !== "hour"; }
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
