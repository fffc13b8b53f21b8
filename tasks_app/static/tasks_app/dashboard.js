/* 领导驾驶舱 charts: Apache ECharts from our own static files, data from the page.
   Every chart follows its box: resized with the window (and with the box, where supported). */
(function () {
  "use strict";
  var colors = { green: "#2e7d32", yellow: "#f9a825", red: "#c62828", blue: "#1a3e8a", grey: "#9aa5b1" };
  var instances = [];
  var still = window.matchMedia && window.matchMedia("(prefers-reduced-motion: reduce)").matches;
  var narrow = function () { return window.innerWidth <= 640; };

  function chart(id, option, rows) {
    var el = document.getElementById(id);
    if (!el || !window.echarts) { return null; }
    if (rows) { el.style.height = Math.max(160, rows * 26 + 50) + "px"; }
    var instance = echarts.init(el);
    option.animation = !still;
    instance.setOption(option);
    instances.push(instance);
    if (window.ResizeObserver) { new ResizeObserver(function () { instance.resize(); }).observe(el); }
    return instance;
  }

  window.addEventListener("resize", function () {
    instances.forEach(function (instance) { instance.resize(); });
  });

  function percentAxis(max) {
    return { type: "value", max: max || 100, axisLabel: { formatter: "{value}%" }, splitLine: { lineStyle: { color: "#eef0f3" } } };
  }

  function nameAxis(names, width) {
    return { type: "category", data: names, inverse: true, axisTick: { show: false },
             axisLabel: { width: width, overflow: "truncate", color: "#1f2933" } };
  }

  /* Completion rates as horizontal bars, "done/total" beside each bar. */
  /* Names are cut to the label width (the axis keeps that room, so nothing is clipped). */
  function rateBars(block, labelWidth) {
    return {
      tooltip: { trigger: "axis", axisPointer: { type: "shadow" }, formatter: function (items) {
        var i = items[0].dataIndex;
        return (block.titles || block.names)[i] + "<br>完成率 " + block.rates[i] + "%(" + block.done[i] + "/" + block.totals[i] + ")";
      } },
      grid: { left: labelWidth + 14, right: 80, top: 6, bottom: 24 },
      xAxis: percentAxis(),
      yAxis: nameAxis(block.names, labelWidth),
      series: [{ name: "完成率", type: "bar", data: block.rates, barMaxWidth: 18, itemStyle: { color: "#b71c1c" },
                 showBackground: true, backgroundStyle: { color: "#f3f4f6" },
                 label: { show: true, position: "right", formatter: function (p) {
                   return p.value + "% " + block.done[p.dataIndex] + "/" + block.totals[p.dataIndex];
                 } } }]
    };
  }

  function donut(items, total) {
    items.forEach(function (item) {  /* an empty slice gets no label to crowd the others */
      item.label = { show: item.value > 0 && !narrow() };
      item.labelLine = { show: item.value > 0 && !narrow() };
    });
    return {
      tooltip: { trigger: "item", formatter: "{b}: {c} ({d}%)" },
      legend: narrow() ? { right: 0, top: "middle", orient: "vertical" } : { bottom: 0 },
      title: { text: String(total), subtext: "项", left: narrow() ? "32%" : "center", top: narrow() ? "36%" : "32%",
               textAlign: narrow() ? "center" : "auto", textStyle: { fontSize: 22 }, itemGap: 0 },
      series: [{ type: "pie", radius: ["48%", "72%"], center: [narrow() ? "33%" : "50%", narrow() ? "50%" : "45%"],
                 avoidLabelOverlap: true, label: { show: !narrow(), formatter: "{c}" }, data: items }]
    };
  }

  function sum(values) { return values.reduce(function (a, b) { return a + b; }, 0); }

  function draw(data) {
    var labelWidth = narrow() ? 96 : 170;
    chart("chart-sections", rateBars(data.sections, labelWidth));
    chart("chart-lights", donut(data.lights.map(function (d) {
      return { name: d.name, value: d.value, itemStyle: { color: colors[d.key] } };
    }), sum(data.lights.map(function (d) { return d.value; }))));
    chart("chart-departments", rateBars(data.departments, labelWidth), data.departments.names.length);

    var status = data.indicators.status;
    chart("chart-indicator-status", donut([
      { name: "已达标", value: status.met, itemStyle: { color: colors.green } },
      { name: "符合序时", value: status.on_course, itemStyle: { color: "#7cb342" } },
      { name: "落后序时", value: status.behind, itemStyle: { color: colors.red } },
      { name: "暂无数据", value: status.no_data, itemStyle: { color: colors.grey } }
    ], status.met + status.on_course + status.behind + status.no_data));
    var pace = data.indicators.pace;
    chart("chart-indicator-pace", {
      tooltip: { trigger: "axis", axisPointer: { type: "shadow" }, valueFormatter: function (v) { return v + "%"; } },
      grid: { left: labelWidth + 14, right: 50, top: 6, bottom: 24 },
      xAxis: { type: "value", axisLabel: { formatter: "{value}%" } },
      yAxis: nameAxis(pace.names, labelWidth),
      series: [{ name: "实际÷序时应达", type: "bar", barMaxWidth: 16,
                 data: pace.values.map(function (v) {
                   return { value: v, itemStyle: { color: v >= 100 ? colors.green : (v >= 80 ? colors.yellow : colors.red) } };
                 }),
                 label: { show: true, position: "right", formatter: "{c}%" },
                 markLine: { symbol: "none", silent: true, lineStyle: { color: colors.blue, type: "dashed" },
                             label: { formatter: "序时" }, data: [{ xAxis: 100 }] } }]
    }, pace.names.length);

    var ranking = data.ranking;
    var rankWidth = narrow() ? 120 : 220;
    var partColors = ["#1a3e8a", "#3f6fb5", "#7aa3d8", "#2e7d32", "#f9a825"];
    chart("chart-ranking", {
      tooltip: { trigger: "axis", axisPointer: { type: "shadow" } },
      legend: { top: 0, type: "scroll" },
      grid: { left: rankWidth + 14, right: 50, top: 30, bottom: 24 },
      xAxis: { type: "value", max: 100 },
      yAxis: nameAxis(ranking.departments.map(function (name, i) {
        return (i + 1) + ". " + name + ({ red: " 红榜", black: " 黑榜" }[ranking.lists[i]] || "");
      }), rankWidth),
      series: ranking.parts.map(function (part, i) {
        var series = { name: part.name, type: "bar", stack: "score", barMaxWidth: 18, data: part.values, itemStyle: { color: partColors[i % partColors.length] } };
        if (i === ranking.parts.length - 1) {
          series.label = { show: true, position: "right", color: "#1f2933", formatter: function (p) { return ranking.scores[p.dataIndex]; } };
          series.markLine = { symbol: "none", silent: true, data: [
            { xAxis: ranking.thresholds.red, lineStyle: { color: colors.red, type: "dashed" }, label: { formatter: "红榜", position: "end" } },
            { xAxis: ranking.thresholds.black, lineStyle: { color: "#263238", type: "dashed" }, label: { formatter: "黑榜", position: "end" } }
          ] };
        }
        return series;
      })
    }, ranking.departments.length + 1);

    chart("chart-trend", {
      tooltip: { trigger: "axis" },
      legend: { bottom: 0 },
      grid: { left: 8, right: 8, bottom: 40, top: 20, containLabel: true },
      xAxis: { type: "category", data: data.trend.months },
      yAxis: [percentAxis(), { type: "value", minInterval: 1 }],
      series: [
        { name: "完成率", type: "line", data: data.trend.rates, itemStyle: { color: colors.blue } },
        { name: "绿灯", type: "bar", stack: "lights", yAxisIndex: 1, data: data.trend.green, itemStyle: { color: colors.green } },
        { name: "黄灯", type: "bar", stack: "lights", yAxisIndex: 1, data: data.trend.yellow, itemStyle: { color: colors.yellow } },
        { name: "红灯", type: "bar", stack: "lights", yAxisIndex: 1, data: data.trend.red, itemStyle: { color: colors.red } }
      ]
    });
  }

  /* Sortable tables: a click on a header sorts by that column, a second click reverses. */
  function cellValue(row, index) {
    var text = row.cells[index].textContent.trim();
    var number = parseFloat(text.replace(/[,%]/g, ""));
    return isNaN(number) ? text : number;
  }

  function sortable(table) {
    var heads = table.tHead.rows[0].cells;
    Array.prototype.forEach.call(heads, function (th, index) {
      th.tabIndex = 0;
      var sort = function () {
        var descending = th.getAttribute("aria-sort") !== "descending";
        Array.prototype.forEach.call(heads, function (other) { other.removeAttribute("aria-sort"); });
        th.setAttribute("aria-sort", descending ? "descending" : "ascending");
        var body = table.tBodies[0];
        var rows = Array.prototype.slice.call(body.rows);
        rows.sort(function (a, b) {
          var x = cellValue(a, index), y = cellValue(b, index);
          var order = typeof x === "number" && typeof y === "number" ? x - y : String(x).localeCompare(String(y), "zh");
          return descending ? -order : order;
        });
        rows.forEach(function (row) { body.appendChild(row); });
      };
      th.addEventListener("click", sort);
      th.addEventListener("keydown", function (event) { if (event.key === "Enter" || event.key === " ") { event.preventDefault(); sort(); } });
    });
  }

  Array.prototype.forEach.call(document.querySelectorAll("table.sortable"), sortable);
  var node = document.getElementById("dashboard-charts");
  if (node) { draw(JSON.parse(node.textContent)); }
}());
