/* The label tree: search by id or name; coverage per label; the label list as CSV. */
"use strict";

(() => {
  const { data, percent, onCsv, downloadCsv } = Portal;
  const byId = new Map(data.labels.map((label) => [label.id, label]));

  for (const cell of document.querySelectorAll("[data-coverage-of]")) {
    const label = byId.get(cell.dataset.coverageOf);
    cell.textContent = label.coverage === null ? "no stats" : `${percent(label.coverage)} hold a value`;
  }

  const search = document.getElementById("search");
  const items = [...document.querySelectorAll(".label-item")];

  function applySearch() {
    const words = search.value.trim().toLowerCase().split(/\s+/).filter(Boolean);
    let shown = 0;
    for (const item of items) {
      const text = `${item.dataset.id} ${item.dataset.name}`.toLowerCase();
      item.hidden = !words.every((word) => text.includes(word));
      if (!item.hidden) shown += 1;
    }
    // a group shows while one of its labels does; its count says how many
    for (const group of document.querySelectorAll("#tree details")) {
      const visible = group.querySelectorAll(".label-item:not([hidden])").length;
      group.hidden = visible === 0;
      group.querySelector(":scope > summary .count").textContent = `(${visible})`;
      if (words.length && visible) group.open = true;
    }
    document.getElementById("search-count").textContent = words.length ? `${shown} of ${items.length} labels` : "";
    document.getElementById("no-match").hidden = shown > 0;
  }

  search.addEventListener("input", applySearch);
  applySearch();

  onCsv("labels", () => {
    const columns = ["id", "name", "group", "type", "method", "schedule", "status", "coverage"];
    downloadCsv(`labels-${data.day}.csv`, columns, data.labels);
  });
})();
