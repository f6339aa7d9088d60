/* Shared by every page: the page's data, number formats, tables built from rows, CSV downloads. */
"use strict";

const Portal = (() => {
  const data = JSON.parse(document.getElementById("page-data").textContent);
  const COLORS = ["#4C72B0", "#DD8452", "#55A868", "#C44E52", "#8172B3", "#937860", "#DA8BC3", "#8C8C8C", "#CCB974", "#64B5CD"];

  const integer = (n) => (n === null || n === undefined ? "-" : n.toLocaleString("en-US"));
  const percent = (p) => (p === null || p === undefined ? "-" : (p * 100).toFixed(2) + "%");
  const valueText = (v) => (v === null ? "(null)" : String(v));

  /** Fills a table body: one row per item, one cell per column; text only (never HTML). */
  function fillTable(tbody, rows, columns) {
    const fragment = document.createDocumentFragment();
    for (const row of rows) {
      const tr = document.createElement("tr");
      for (const column of columns) {
        const td = document.createElement("td");
        const shown = column.format ? column.format(row[column.key], row) : row[column.key];
        td.textContent = shown === null || shown === undefined ? "" : shown;
        if (column.numeric) td.className = "num";
        if (column.className) td.className = column.className(row[column.key], row);
        tr.appendChild(td);
      }
      fragment.appendChild(tr);
    }
    tbody.replaceChildren(fragment);
  }

  function csvField(value) {
    if (value === null || value === undefined) return "";
    const text = String(value);
    return /[",\r\n]/.test(text) ? '"' + text.replace(/"/g, '""') + '"' : text;
  }

  /** Downloads rows as CSV (a Blob made in the page: nothing is fetched, works from file://). */
  function downloadCsv(filename, columns, rows) {
    const lines = [columns.join(",")].concat(rows.map((row) => columns.map((c) => csvField(row[c])).join(",")));
    const blob = new Blob([lines.join("\r\n") + "\r\n"], { type: "text/csv;charset=utf-8" });
    const link = document.createElement("a");
    link.href = URL.createObjectURL(blob);
    link.download = filename;
    document.body.appendChild(link);
    link.click();
    link.remove();
    setTimeout(() => URL.revokeObjectURL(link.href), 0);
  }

  /** Calls `handler` when a "Download CSV" button of that kind is clicked. */
  function onCsv(kind, handler) {
    for (const button of document.querySelectorAll(`button.csv[data-csv="${kind}"]`)) {
      button.addEventListener("click", () => handler(button));
    }
  }

  /** Replaces the chart on a canvas (Chart.js keeps one chart per canvas). */
  function drawChart(canvas, config) {
    const existing = Chart.getChart(canvas);
    if (existing) existing.destroy();
    config.options = Object.assign({ animation: false, responsive: true, maintainAspectRatio: false }, config.options || {});
    return new Chart(canvas, config);
  }

  return { data, COLORS, integer, percent, valueText, fillTable, downloadCsv, onCsv, drawChart };
})();
