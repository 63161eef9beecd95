/* Draw every server-built plotly figure on the page, and make clickable points navigate.
 *
 * A chart is a <div data-figure="ID"> next to <script type="application/json" id="ID">
 * holding the figure JSON. A point whose customdata is a same-site path ("/codes/…")
 * opens that path when clicked.
 */
(function () {
  "use strict";

  function targetOf(event) {
    var point = event && event.points && event.points[0];
    var url = point ? point.customdata : null;
    if (Array.isArray(url)) { url = url[0]; }
    // Only local paths: never follow anything that could leave the site.
    if (typeof url === "string" && url.charAt(0) === "/" && url.charAt(1) !== "/") {
      return url;
    }
    return null;
  }

  function draw(element) {
    var source = document.getElementById(element.getAttribute("data-figure"));
    if (!source) { return; }
    var figure = JSON.parse(source.textContent);
    var config = { responsive: true, displaylogo: false };
    window.Plotly.newPlot(element, figure.data, figure.layout || {}, config).then(function () {
      element.setAttribute("data-rendered", "true");
    });
    element.on("plotly_click", function (event) {
      var url = targetOf(event);
      if (url) { window.location.assign(url); }
    });
  }

  function drawAll() {
    if (!window.Plotly) { return; }
    var charts = document.querySelectorAll("[data-figure]");
    for (var i = 0; i < charts.length; i++) { draw(charts[i]); }
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", drawAll);
  } else {
    drawAll();
  }
}());
