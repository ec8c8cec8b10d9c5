/* Voronka web interface: HTMX wiring, charts, the kanban board. No inline scripts (CSP). */
(function () {
  "use strict";

  function csrf() {
    var meta = document.querySelector('meta[name="csrf-token"]');
    return meta ? meta.getAttribute("content") : "";
  }

  function initCharts(root) {
    if (!window.echarts) { return; }
    root.querySelectorAll("[data-chart]").forEach(function (el) {
      var option = JSON.parse(el.getAttribute("data-chart"));
      option.toolbox = { feature: { saveAsImage: { title: "PNG", pixelRatio: 2 } } };
      option.animation = false;
      var chart = window.echarts.getInstanceByDom(el) || window.echarts.init(el);
      chart.setOption(option, true);
    });
  }

  function moveDeal(dealId, stageId, board) {
    window.htmx.ajax("POST", "/ui/board/move", {
      target: "#board", swap: "outerHTML",
      values: { deal_id: dealId, stage_id: stageId, owner_id: board.getAttribute("data-owner") || "" }
    });
  }

  function initBoard(root) {
    if (!window.Sortable) { return; }
    root.querySelectorAll("#board .cards").forEach(function (list) {
      if (list.getAttribute("data-sortable")) { return; }
      list.setAttribute("data-sortable", "1");
      window.Sortable.create(list, {
        group: "deals", animation: 120, draggable: ".deal", forceFallback: true,
        filter: "select, button, input, a", preventOnFilter: false,
        onEnd: function (evt) {
          if (evt.from === evt.to) { return; }
          moveDeal(evt.item.getAttribute("data-deal"), evt.to.getAttribute("data-stage"),
                   document.getElementById("board"));
        }
      });
    });
  }

  function initAutosubmit(root) {
    root.querySelectorAll("[data-autosubmit]").forEach(function (el) {
      el.addEventListener("change", function () { el.form.submit(); });
    });
  }

  function init(root) {
    initCharts(root);
    initBoard(root);
    initAutosubmit(root);
  }

  document.addEventListener("DOMContentLoaded", function () {
    if (window.htmx) {
      // show refusals (4xx) instead of dropping them: the server retargets them to #flash
      window.htmx.config.responseHandling = [
        { code: "204", swap: false },
        { code: "[23]..", swap: true },
        { code: "4..", swap: true, error: false },
        { code: "...", swap: false, error: true }
      ];
    }
    document.body.addEventListener("htmx:configRequest", function (evt) {
      evt.detail.headers["X-CSRF-Token"] = csrf();
    });
    document.body.addEventListener("htmx:afterSettle", function (evt) { init(evt.target); });
    window.addEventListener("resize", function () {
      document.querySelectorAll("[data-chart]").forEach(function (el) {
        var chart = window.echarts && window.echarts.getInstanceByDom(el);
        if (chart) { chart.resize(); }
      });
    });
    init(document);
  });
})();
