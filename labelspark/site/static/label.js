/* A label's page: its distribution (chart type, top N, sort, date) and its history (value and date filters). */
"use strict";

(() => {
  const { data, COLORS, integer, percent, valueText, fillTable, downloadCsv, onCsv, drawChart } = Portal;
  const dates = data.dates;
  const $ = (id) => document.getElementById(id);

  /** The stats rows of date index d, by rank (as label_stats holds them, up to the top kept). */
  function rowsOf(d) {
    return data.ranked[d].map((valueIndex, position) => ({
      label_id: data.id,
      snapshot_date: dates[d],
      rank: position + 1,
      valueIndex,
      value: data.values[valueIndex],
      users: data.users[d][position],
      proportion: data.users[d][position] / data.entities[d],
      entered: data.entered ? data.entered[d][position] : null,
      left: data.left ? data.left[d][position] : null,
    }));
  }

  function byValue(a, b) {
    if (a.value === null || b.value === null) return (a.value === null) - (b.value === null);
    const x = Number(a.value), y = Number(b.value);
    if (a.value !== "" && b.value !== "" && Number.isFinite(x) && Number.isFinite(y)) return x - y;
    return String(a.value).localeCompare(String(b.value), undefined, { numeric: true });
  }

  // ---- distribution (the page has this script only when the label has stats) --------------
  const withStats = dates.map((_, d) => d).filter((d) => data.ranked[d].length > 0);
  const distDate = $("dist-date");
  for (const d of withStats.slice().reverse()) distDate.add(new Option(dates[d], d));
  let shownDistribution = [];

  function drawDistribution() {
    const d = Number(distDate.value);
    const kind = $("chart-type").value;
    const top = Math.min(Math.max(parseInt($("top-n").value, 10) || 10, 1), Number($("top-n").max));
    const rows = rowsOf(d).slice(0, top);
    if ($("sort-by").value === "value") rows.sort(byValue);
    shownDistribution = rows;

    const names = rows.map((row) => valueText(row.value));
    const users = rows.map((row) => row.users);
    const colors = rows.map((_, i) => COLORS[i % COLORS.length]);
    const share = (n) => percent(n / data.entities[d]);
    let config;
    if (kind === "donut") {
      // slices are shares of all entities: what the top N leave out is a slice of its own
      const rest = data.entities[d] - users.reduce((a, b) => a + b, 0);
      if (rest > 0) { names.push("(other values)"); users.push(rest); colors.push("#D0D0D0"); }
      config = {
        type: "doughnut",
        data: { labels: names.map((name, i) => `${name}: ${share(users[i])}`), datasets: [{ data: users, backgroundColor: colors }] },
        options: { plugins: { legend: { position: "right" }, tooltip: { callbacks: {
          label: (item) => ` ${integer(item.raw)} users (${share(item.raw)} of entities)` } } } },
      };
    } else {
      // a list label's bars are shares of all entities on a 0-100% scale: each stands alone, none adds up
      const sized = data.list ? users.map((n) => 100 * (n / data.entities[d])) : users;
      const axis = data.list
        ? { min: 0, max: 100, title: { display: true, text: "% of all entities holding the value" }, ticks: { callback: (v) => `${v}%` } }
        : { beginAtZero: true, title: { display: true, text: "users" } };
      config = {
        type: "bar",
        data: { labels: names, datasets: [{ label: data.list ? "% of entities" : "users", data: sized, backgroundColor: colors }] },
        options: {
          indexAxis: kind === "bar" ? "y" : "x",
          plugins: { legend: { display: false }, tooltip: { callbacks: {
            label: (item) => ` ${integer(users[item.dataIndex])} users (${share(users[item.dataIndex])} of entities)` } } },
          scales: { [kind === "bar" ? "x" : "y"]: axis },
        },
      };
    }
    $("dist-chart").parentElement.style.height = kind === "bar" ? `${Math.max(220, 28 * rows.length + 60)}px` : "";
    drawChart($("dist-chart"), config);

    const distinct = data.distinct[d];
    $("dist-caption").textContent = `${dates[d]}: ${integer(data.entities[d])} entities; the ${rows.length} most frequent ` +
      `of ${integer(distinct)} values, sorted by ${$("sort-by").value}.` +
      (data.list ? " Shares are of all entities; an entity can hold several values." : "");
    fillTable($("dist-table").tBodies[0], rows, [
      { key: "rank", numeric: true },
      { key: "value", format: valueText },
      { key: "users", numeric: true, format: integer },
      { key: "proportion", numeric: true, format: percent },
    ]);
  }

  for (const id of ["dist-date", "chart-type", "top-n", "sort-by"]) {
    $(id).addEventListener(id === "top-n" ? "input" : "change", drawDistribution);
  }
  onCsv("distribution", () => {
    const day = shownDistribution.length ? shownDistribution[0].snapshot_date : "none";
    downloadCsv(`${data.id}-distribution-${day}.csv`, data.statsColumns, shownDistribution);
  });

  // ---- history -----------------------------------------------------------------------------
  const histValue = $("hist-value"), histFrom = $("hist-from"), histTo = $("hist-to");
  const totals = new Map();
  dates.forEach((_, d) => rowsOf(d).forEach((row) => totals.set(row.valueIndex, (totals.get(row.valueIndex) || 0) + row.users)));
  const valuesByUsers = [...totals.keys()].sort((a, b) => totals.get(b) - totals.get(a));
  for (const v of valuesByUsers) histValue.add(new Option(valueText(data.values[v]), String(v)));
  for (const input of [histFrom, histTo]) { input.min = dates[withStats[0]]; input.max = dates[withStats[withStats.length - 1]]; }
  histFrom.value = histFrom.min;
  histTo.value = histTo.max;
  let shownHistory = [];
  const CHART_LINES = 8;

  function drawHistory() {
    const from = histFrom.value || dates[0], to = histTo.value || dates[dates.length - 1];
    const picked = histValue.value === "" ? null : Number(histValue.value);
    const days = dates.map((_, d) => d).filter((d) => dates[d] >= from && dates[d] <= to);
    const rows = days.flatMap((d) => rowsOf(d).filter((row) => picked === null || row.valueIndex === picked));
    shownHistory = rows.slice().sort((a, b) => (a.snapshot_date < b.snapshot_date ? 1 : a.snapshot_date > b.snapshot_date ? -1 : a.rank - b.rank));

    const lines = picked !== null ? [picked] : valuesByUsers.slice(0, CHART_LINES);
    const usersOn = new Map(rows.map((row) => [`${row.snapshot_date}|${row.valueIndex}`, row.users]));
    drawChart($("hist-chart"), {
      type: "line",
      data: {
        labels: days.map((d) => dates[d]),
        datasets: lines.map((v, i) => ({
          label: valueText(data.values[v]),
          data: days.map((d) => usersOn.get(`${dates[d]}|${v}`) ?? null),
          borderColor: COLORS[i % COLORS.length], backgroundColor: COLORS[i % COLORS.length], pointRadius: days.length > 40 ? 0 : 3,
        })),
      },
      options: { interaction: { mode: "index", intersect: false },
                 scales: { y: { beginAtZero: true, title: { display: true, text: "users" } } } },
    });
    const kept = Number($("top-n").max);
    const cut = days.some((d) => data.distinct[d] > kept);
    $("hist-caption").textContent = `${shownHistory.length} rows, ${from} … ${to}.` +
      (picked === null && valuesByUsers.length > CHART_LINES ? ` The chart shows the ${CHART_LINES} largest values; pick a value to see another.` : "") +
      (cut ? ` Values outside a date's ${kept} most frequent are not shown.` : "") +
      (data.entered ? " Entered and left count the entities whose value became or stopped being this value on the date." : "");
    const columns = [
      { key: "snapshot_date" },
      { key: "value", format: valueText },
      { key: "users", numeric: true, format: integer },
      { key: "proportion", numeric: true, format: percent },
    ];
    if (data.entered) columns.push({ key: "entered", numeric: true, format: integer }, { key: "left", numeric: true, format: integer });
    fillTable($("hist-table").tBodies[0], shownHistory, columns);
  }

  for (const control of [histValue, histFrom, histTo]) control.addEventListener("change", drawHistory);
  onCsv("history", () => downloadCsv(`${data.id}-history.csv`, data.historyColumns, shownHistory));

  drawDistribution();
  drawHistory();
})();
