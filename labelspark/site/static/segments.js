/* Segments: each one's size over the dates shown, as a chart and a table with a CSV download. */
"use strict";

(() => {
  const { data, integer, percent, fillTable, downloadCsv, onCsv, drawChart } = Portal;
  const rowsOf = (id) => data.dates.map((date, d) => ({
    segment_id: id, snapshot_date: date, members: data.members[id][d], share: data.members[id][d] / data.entities[d],
  })).reverse();

  for (const section of document.querySelectorAll("section.segment")) {
    const id = section.dataset.segment;
    const rows = rowsOf(id);
    const latest = rows[0];
    section.querySelector(".size").textContent = latest
      ? `${integer(latest.members)} members on ${latest.snapshot_date} (${percent(latest.share)} of entities)` : "no dates";
    drawChart(section.querySelector("canvas"), {
      type: "line",
      data: { labels: data.dates, datasets: [{ label: "members", data: data.members[id], borderColor: "#4C72B0",
                                               backgroundColor: "#4C72B0", pointRadius: data.dates.length > 40 ? 0 : 3 }] },
      options: { plugins: { legend: { display: false } }, scales: { y: { beginAtZero: true, title: { display: true, text: "members" } } } },
    });
    fillTable(section.querySelector("tbody"), rows, [
      { key: "snapshot_date" },
      { key: "members", numeric: true, format: integer },
      { key: "share", numeric: true, format: percent },
    ]);
  }
  onCsv("segment", (button) => {
    const id = button.dataset.segment;
    downloadCsv(`segment-${id}.csv`, ["segment_id", "snapshot_date", "members", "share"], rowsOf(id));
  });
})();
