/* Recent runs: status, rows, duration and errors; filterable by status, downloadable as CSV. */
"use strict";

(() => {
  const { data, integer, fillTable, downloadCsv, onCsv } = Portal;
  const status = document.getElementById("run-status");
  for (const name of [...new Set(data.runs.map((run) => run.status))].sort()) status.add(new Option(name, name));
  let shown = [];

  function draw() {
    shown = data.runs.filter((run) => !status.value || run.status === status.value);
    document.getElementById("run-count").textContent = `${shown.length} of ${data.runs.length} runs`;
    fillTable(document.querySelector("#runs-table tbody"), shown, [
      { key: "snapshot_date" },
      { key: "status", className: (value) => `status ${value}` },
      { key: "labels", numeric: true },
      { key: "rows", numeric: true, format: integer },
      { key: "started_at" },
      { key: "duration_s", numeric: true },
      { key: "index" },
      { key: "error", className: () => "error" },
      { key: "details", className: () => "details" },
      { key: "run_id", className: () => "mono" },
    ]);
  }

  status.addEventListener("change", draw);
  onCsv("runs", () => downloadCsv("runs.csv", ["run_id", "snapshot_date", "status", "labels", "rows", "started_at",
                                               "finished_at", "duration_s", "index", "error", "details"], shown));
  draw();
})();
