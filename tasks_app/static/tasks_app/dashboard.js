/* 领导驾驶舱 charts: Apache ECharts from our own static files, data from the page. */
(function () {
  "use strict";
  var node = document.getElementById("dashboard-charts");
  if (!node || !window.echarts) { return; }
  var data = JSON.parse(node.textContent);
  var colors = { green: "#2e7d32", yellow: "#f9a825", red: "#c62828" };

  function chart(id, option) {
    var el = document.getElementById(id);
    if (!el) { return; }
    var instance = echarts.init(el);
    instance.setOption(option);
    window.addEventListener("resize", function () { instance.resize(); });
  }

  function rateBars(names, rates) {
    return {
      tooltip: { trigger: "axis", valueFormatter: function (v) { return v + "%"; } },
      grid: { left: 40, right: 10, bottom: 90, top: 20 },
      xAxis: { type: "category", data: names, axisLabel: { interval: 0, rotate: 35, width: 110, overflow: "truncate" } },
      yAxis: { type: "value", max: 100, axisLabel: { formatter: "{value}%" } },
      series: [{ name: "完成率", type: "bar", data: rates, itemStyle: { color: "#b71c1c" },
                 label: { show: true, position: "top", formatter: "{c}%" } }]
    };
  }

  chart("chart-sections", rateBars(data.sections.names, data.sections.rates));
  chart("chart-departments", rateBars(data.departments.names, data.departments.rates));
  chart("chart-lights", {
    tooltip: { trigger: "item" },
    legend: { bottom: 0 },
    series: [{
      name: "亮灯", type: "pie", radius: ["40%", "70%"],
      data: data.lights.map(function (d) {
        return { name: d.name, value: d.value, itemStyle: { color: colors[d.key] } };
      }),
      label: { formatter: "{b}: {c}" }
    }]
  });
  chart("chart-trend", {
    tooltip: { trigger: "axis" },
    legend: { bottom: 0 },
    grid: { left: 40, right: 40, bottom: 40, top: 20 },
    xAxis: { type: "category", data: data.trend.months },
    yAxis: [{ type: "value", max: 100, axisLabel: { formatter: "{value}%" } },
            { type: "value", minInterval: 1 }],
    series: [
      { name: "完成率", type: "line", data: data.trend.rates, itemStyle: { color: "#1a3e8a" } },
      { name: "绿灯", type: "bar", stack: "lights", yAxisIndex: 1, data: data.trend.green, itemStyle: { color: colors.green } },
      { name: "黄灯", type: "bar", stack: "lights", yAxisIndex: 1, data: data.trend.yellow, itemStyle: { color: colors.yellow } },
      { name: "红灯", type: "bar", stack: "lights", yAxisIndex: 1, data: data.trend.red, itemStyle: { color: colors.red } }
    ]
  });
}());
