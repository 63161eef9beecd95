/* Draw every server-built plotly figure on the page, and make clickable points navigate.
 *
 * A chart is a <div data-figure="ID"> next to <script type="application/json" id="ID">
 * holding the figure JSON. A point whose customdata is a same-site path ("/codes/…")
 * opens that path when clicked, and shows a pointer while hovered. In dark mode
 * (prefers-color-scheme) the figure takes the page's dark colours.
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
    var layout = figure.layout || {};
    if (dark()) { darken(layout); }
    window.Plotly.newPlot(element, figure.data, layout, config).then(function () {
      element.setAttribute("data-rendered", "true");
    });
    element.on("plotly_click", function (event) {
      var url = targetOf(event);
      if (url) { window.location.assign(url); }
    });
    // A pointer over marks that open something, plotly's crosshair elsewhere.
    element.on("plotly_hover", function (event) {
      element.classList.toggle("pointing", targetOf(event) !== null);
    });
    element.on("plotly_unhover", function () { element.classList.remove("pointing"); });
  }

  function dark() {
    return window.matchMedia && window.matchMedia("(prefers-color-scheme: dark)").matches;
  }

  // The page's dark colours (site.css) for a figure built with light ones.
  function darken(layout) {
    var style = window.getComputedStyle(document.documentElement);
    var fg = style.getPropertyValue("--fg").trim() || "#e6e9ef";
    var line = style.getPropertyValue("--line").trim() || "#343a46";
    layout.paper_bgcolor = "rgba(0,0,0,0)";
    layout.plot_bgcolor = "rgba(0,0,0,0)";
    layout.font = Object.assign({}, layout.font, { color: fg });
    Object.keys(layout).forEach(function (key) {
      if (/^[xy]axis\d*$/.test(key)) {
        layout[key] = Object.assign({}, layout[key], { gridcolor: line, zerolinecolor: line });
      }
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
