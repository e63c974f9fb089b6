// Draws the cxpipe report from the JSON embedded in the page (#cx-data):
// six Chart.js charts and sortable tables. No network, no other files.
(function () {
  "use strict";
  var D = JSON.parse(document.getElementById("cx-data").textContent);
  var palette = ["#2563eb", "#dc2626", "#16a34a", "#d97706", "#7c3aed", "#0891b2", "#db2777", "#65a30d", "#475569", "#ea580c"];
  Chart.defaults.animation = false;
  Chart.defaults.responsive = true;
  Chart.defaults.maintainAspectRatio = false;
  Chart.defaults.font.size = 12;
  var drawn = 0;

  function pct(v) { return v === null || v === undefined ? "–" : (v * 100).toFixed(1) + "%"; }
  function num(v, d) { return v === null || v === undefined ? "–" : Number(v).toLocaleString("en-US", { maximumFractionDigits: d === undefined ? 1 : d }); }
  function axis(title, extra) {
    var a = { title: { display: true, text: title } };
    for (var k in extra) { a[k] = extra[k]; }
    return a;
  }
  function chart(id, config, empty) {
    var canvas = document.getElementById(id);
    if (empty) {
      var p = document.createElement("p");
      p.className = "empty";
      p.textContent = empty;
      canvas.parentNode.replaceWith(p);
      return;
    }
    config.options = config.options || {};
    config.options.plugins = config.options.plugins || {};
    config.options.plugins.title = { display: true, text: config.title, font: { size: 14 } };
    new Chart(canvas, config);
    drawn += 1;
  }

  // A sortable table: columns are [key, heading, formatter, numeric].
  function table(id, rows, columns) {
    var el = document.getElementById(id);
    var thead = document.createElement("thead");
    var tr = document.createElement("tr");
    var tbody = document.createElement("tbody");
    columns.forEach(function (c, i) {
      var th = document.createElement("th");
      th.textContent = c[1];
      if (c[3]) { th.className = "num"; }
      th.addEventListener("click", function () {
        var asc = th.getAttribute("aria-sort") !== "ascending";
        Array.prototype.forEach.call(tr.children, function (h) { h.removeAttribute("aria-sort"); });
        th.setAttribute("aria-sort", asc ? "ascending" : "descending");
        rows.sort(function (a, b) {
          var x = a[c[0]], y = b[c[0]];
          if (x === y) { return 0; }
          if (x === null || x === undefined) { return 1; }
          if (y === null || y === undefined) { return -1; }
          return (x < y ? -1 : 1) * (asc ? 1 : -1);
        });
        fill();
      });
      tr.appendChild(th);
    });
    thead.appendChild(tr);
    el.appendChild(thead);
    el.appendChild(tbody);
    function fill() {
      var html = [];
      rows.forEach(function (r) {
        html.push("<tr>" + columns.map(function (c) {
          var v = c[2] ? c[2](r[c[0]]) : (r[c[0]] === null || r[c[0]] === undefined ? "" : r[c[0]]);
          return "<td" + (c[3] ? " class=\"num\"" : "") + ">" + String(v).replace(/&/g, "&amp;").replace(/</g, "&lt;") + "</td>";
        }).join("") + "</tr>");
      });
      tbody.innerHTML = html.join("");
    }
    fill();
  }

  // 1. Service level by interval against the target.
  var sl = D.sl_by_interval;
  var target = D.sl_target;
  document.getElementById("sl-note").textContent =
    "Service level (" + D.meta.sl_variant + ", answered within " + D.meta.sl_threshold_s + " s) of all queues per " + D.meta.interval +
    " interval" + (target === null ? "; no service_level rule in the SLA policy, so no target line." : "; target " + pct(target) + " from SLA rule " + D.sl_target_rule + ".");
  var slSets = [{ label: "service level", data: sl.map(function (r) { return r.service_level === null ? null : r.service_level * 100; }), borderColor: palette[0], backgroundColor: palette[0], pointRadius: 0, borderWidth: 1.5, spanGaps: false }];
  if (target !== null) {
    slSets.push({ label: "target", data: sl.map(function () { return target * 100; }), borderColor: palette[1], borderDash: [6, 4], pointRadius: 0, borderWidth: 1.5 });
  }
  chart("chart-sl", {
    type: "line",
    title: "Service level by " + D.meta.interval + " interval (%)",
    data: { labels: sl.map(function (r) { return r.interval_start; }), datasets: slSets },
    options: { scales: { x: axis("interval start (local time)", { ticks: { maxTicksLimit: 12 } }), y: axis("service level (%)", { min: 0, max: 100 }) } }
  }, sl.length ? null : "No contacts in the range.");

  // 2. Volume and AHT by day.
  var days = D.by_day;
  chart("chart-volume", {
    type: "bar",
    title: "Contacts and average handle time per day",
    data: {
      labels: days.map(function (r) { return r.date; }),
      datasets: [
        { label: "offered (inbound)", data: days.map(function (r) { return r.offered; }), backgroundColor: palette[0], yAxisID: "y" },
        { label: "handled", data: days.map(function (r) { return r.handled; }), backgroundColor: palette[2], yAxisID: "y" },
        { label: "AHT (s)", type: "line", data: days.map(function (r) { return r.aht_s; }), borderColor: palette[3], backgroundColor: palette[3], yAxisID: "y1", pointRadius: 2 }
      ]
    },
    options: { scales: { x: axis("date (local)"), y: axis("contacts per day", { beginAtZero: true }), y1: axis("AHT (seconds)", { position: "right", beginAtZero: true, grid: { drawOnChartArea: false } }) } }
  }, days.length ? null : "No contacts in the range.");

  // Say when a table shows only the top of the rows.
  function shown(id, rows, total, what) {
    var note = document.getElementById(id).closest("section").querySelector("p.note");
    if (rows < total) {
      note.textContent += " The table shows " + num(rows, 0) + " of " + num(total, 0) + " " + what + "; the full list is in " +
        ({ "table-agents": "cxpipe kpi --by agent", "table-sla": "cxpipe sla", "table-risk": "cxpipe turnover" })[id] + ".";
    }
  }

  // 3. Agent leaderboard.
  var agents = D.agents.slice();
  var top = agents.slice().sort(function (a, b) { return b.handled - a.handled; }).slice(0, 20);
  chart("chart-agents", {
    type: "bar",
    title: "Top 20 agents by contacts handled",
    data: { labels: top.map(function (r) { return r.agent_id; }), datasets: [{ label: "handled", data: top.map(function (r) { return r.handled; }), backgroundColor: palette[0] }] },
    options: { indexAxis: "y", scales: { x: axis("contacts handled", { beginAtZero: true }), y: axis("agent", { ticks: { autoSkip: false } }) } }
  }, top.length ? null : "No handled contacts in the range.");
  table("table-agents", agents, [
    ["agent_id", "agent"], ["handled", "handled", num, true], ["aht_s", "AHT (s)", num, true],
    ["avg_acw_s", "ACW (s)", num, true], ["hold_rate", "hold rate", pct, true], ["transfer_rate", "transfer rate", pct, true],
    ["fcr_rate", "FCR", pct, true], ["csat_avg", "CSAT", function (v) { return num(v, 2); }, true], ["csat_responses", "surveys", num, true]
  ]);
  shown("table-agents", D.agents.length, D.counts.agents, "agents (those who handled the most; --table-rows sets how many)");

  // 4. SLA breaches by agent and rule.
  var breaches = D.sla_chart;
  document.getElementById("sla-note").textContent = D.sla_policy === null
    ? "No SLA policy: add [[sla]] rules to cxpipe.toml or pass --policy FILE."
    : "Policy " + D.sla_policy + ": breaches per agent (contacts over a rule's threshold, or handled in a missed interval), the 15 agents with the most in all rules.";
  var rules = [];
  breaches.forEach(function (r) { if (rules.indexOf(r.rule) < 0) { rules.push(r.rule); } });
  var totals = {};
  breaches.forEach(function (r) { totals[r.agent_id] = (totals[r.agent_id] || 0) + r.breaches; });
  var worst = Object.keys(totals).sort(function (a, b) { return totals[b] - totals[a] || (a < b ? -1 : 1); }).slice(0, 15);
  chart("chart-sla", {
    type: "bar",
    title: "Breaches by agent and rule (15 agents with the most)",
    data: {
      labels: worst,
      datasets: rules.map(function (rule, i) {
        return { label: rule, backgroundColor: palette[i % palette.length], data: worst.map(function (a) {
          var row = breaches.find(function (r) { return r.rule === rule && r.agent_id === a; });
          return row ? row.breaches : 0;
        }) };
      })
    },
    options: { indexAxis: "y", scales: { x: axis("breaches (contacts)", { stacked: true, beginAtZero: true }), y: axis("agent", { stacked: true, ticks: { autoSkip: false } }) } }
  }, worst.length ? null : (D.sla_policy === null ? "No SLA policy configured." : "No agent breached a rule."));
  table("table-sla", D.sla_agents.slice(), [
    ["rule", "rule"], ["agent_id", "agent"], ["handled", "handled", num, true], ["breaches", "breaches", num, true],
    ["breach_rate", "breach rate", pct, true], ["rank", "rank", num, true], ["missed_interval_share", "missed intervals", pct, true]
  ]);
  shown("table-sla", D.sla_agents.length, D.counts.sla_agents, "agent × rule rows (the worst ranks of each rule)");

  // 5. Turnover risk list.
  var risk = D.turnover;
  var atRisk = risk.filter(function (r) { return r.status !== "departed"; }).slice(0, 20);
  chart("chart-risk", {
    type: "bar",
    title: "Turnover risk score, 20 highest (agents still employed)",
    data: { labels: atRisk.map(function (r) { return r.agent_id + " (" + r.status + ")"; }), datasets: [{ label: "risk score", data: atRisk.map(function (r) { return r.risk_score; }), backgroundColor: atRisk.map(function (r) { return r.risk_score >= 0.5 ? palette[1] : palette[3]; }) }] },
    options: { indexAxis: "y", scales: { x: axis("risk score (0 to 1)", { min: 0, max: 1 }), y: axis("agent", { ticks: { autoSkip: false } }) } }
  }, atRisk.length ? null : "No agents.");
  table("table-risk", risk.slice(), [
    ["agent_id", "agent"], ["team", "team"], ["status", "status"], ["risk_score", "risk", function (v) { return num(v, 2); }, true],
    ["reasons", "reasons"], ["first_seen", "first seen"], ["last_seen", "last seen"], ["tenure_days", "tenure (d)", num, true],
    ["active_days_28", "active days (28 d)", num, true], ["handled_trend", "handled trend", pct, true],
    ["aht_trend", "AHT trend", pct, true], ["csat_trend", "CSAT trend", pct, true]
  ]);
  shown("table-risk", D.turnover.length, D.counts.turnover, "agents (the highest risks still employed, and every departed agent)");

  // 6. Attrition by team and month.
  var attr = D.attrition;
  var months = [], teams = [];
  attr.forEach(function (r) { if (months.indexOf(r.month) < 0) { months.push(r.month); } if (teams.indexOf(r.team) < 0) { teams.push(r.team); } });
  chart("chart-attrition", {
    type: "bar",
    title: "Monthly attrition rate by team (%)",
    data: {
      labels: months,
      datasets: teams.map(function (t, i) {
        return { label: t === null ? "(no team)" : t, backgroundColor: palette[i % palette.length], data: months.map(function (m) {
          var row = attr.find(function (r) { return r.team === t && r.month === m; });
          return row && row.attrition_rate !== null ? row.attrition_rate * 100 : null;
        }) };
      })
    },
    options: { scales: { x: axis("month"), y: axis("attrition rate (%)", { beginAtZero: true }) } }
  }, attr.length ? null : "No agents.");
  table("table-attrition", attr.slice(), [
    ["team", "team"], ["month", "month"], ["headcount_start", "headcount start", num, true], ["headcount_end", "headcount end", num, true],
    ["leavers", "leavers", num, true], ["attrition_rate", "attrition", pct, true], ["annualized_attrition", "annualized", pct, true],
    ["new_hire_90d_attrition", "new-hire 90 d", pct, true]
  ]);

  // For the browser test: how many charts, how much ink on each, errors.
  Array.prototype.forEach.call(document.querySelectorAll("canvas"), function (c) {
    var ctx = c.getContext("2d");
    var px = ctx.getImageData(0, 0, c.width, c.height).data;
    var ink = 0;
    for (var i = 3; i < px.length; i += 4) { if (px[i] !== 0) { ink += 1; } }
    c.setAttribute("data-painted", String(ink));
  });
  document.body.setAttribute("data-charts-drawn", String(drawn));
  document.body.setAttribute("data-resources", String(performance.getEntriesByType("resource").length));
  var errs = document.getElementById("cx-errors");
  errs.textContent = window.cxErrors.join("\n");
  if (window.cxErrors.length) { errs.style.display = "block"; }
})();
