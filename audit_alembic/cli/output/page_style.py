"""The style sheet and the script of ``report``'s page (see :mod:`.html`),
inline in it: no font, image or file from anywhere else.

The script only filters the runs by text and opens every run before
printing; without it the page shows everything (the filter stays
hidden).  Both are constants: the page's Content-Security-Policy allows
them by their SHA-256, and nothing else.
"""

STYLE = '''
:root { --ok: #2e7d32; --failed: #c62828; --drift: #e65100;
  --other: #757575; --line: #d0d4d8; --muted: #5f6368; }
* { box-sizing: border-box; }
body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto,
  sans-serif; color: #202124; margin: 0 auto; padding: 1em 1.5em;
  max-width: 1280px; }
h1 { font-size: 1.5em; margin: 0 0 .4em; }
h2 { font-size: 1.15em; margin: 1.2em 0 .4em; }
code, .checksum, td.from, td.when { font-family: ui-monospace, Menlo,
  Consolas, monospace; font-size: .92em; }
dl.summary { display: grid; grid-template-columns: max-content 1fr;
  gap: .2em 1em; margin: 0; }
dl.summary dt { font-weight: 600; color: var(--muted); }
dl.summary dd { margin: 0; overflow-wrap: anywhere; }
.good { color: var(--ok); font-weight: 600; }
.bad { color: var(--failed); font-weight: 600; }
.note { color: var(--muted); }
ul.checks { margin: .2em 0 0; padding-left: 1.2em; columns: 2 22em; }
ul.checks > li { break-inside: avoid; }
ul.checks li.skipped { color: var(--muted); }
.notice { background: #fff8e1; border-left: 4px solid #f9a825;
  padding: .4em .8em; }
svg.timeline { width: 100%; height: auto; border: 1px solid var(--line);
  background: #fff; }
svg.timeline .axis, svg.timeline line.tick { stroke: #80868b; }
svg.timeline text { font-size: 11px; fill: var(--muted); }
svg.timeline text.tick { text-anchor: middle; }
svg.timeline text.tick.end { text-anchor: end; }
svg.timeline text.rev { text-anchor: end; font-family: ui-monospace,
  Menlo, Consolas, monospace; }
.mark line { stroke-linecap: round; opacity: .55; }
.mark.ok { fill: var(--ok); stroke: var(--ok); }
.mark.failed { fill: var(--failed); stroke: var(--failed); }
.mark.drift { fill: var(--drift); stroke: var(--drift); }
.mark.other { fill: #fff; stroke: var(--other); }
.mark circle, .mark rect, .mark polygon { stroke: #fff; stroke-width: 1; }
.mark.other circle { stroke: var(--other); stroke-width: 2; }
.mark:hover > :not(title), .mark:focus > :not(title) { stroke: #000;
  stroke-width: 2.5; }
.mark:focus { outline: none; }
ul.legend { list-style: none; padding: 0; margin: .4em 0;
  display: flex; flex-wrap: wrap; gap: .3em 1.4em; color: var(--muted); }
ul.legend svg { width: 12px; height: 12px; vertical-align: -1px; }
ul.legend .ok { fill: var(--ok); } ul.legend .failed { fill: var(--failed); }
ul.legend .drift { fill: var(--drift); }
ul.legend .other { fill: #fff; stroke: var(--other); stroke-width: 2; }
table { border-collapse: collapse; width: 100%; }
th, td { text-align: left; padding: .25em .5em; vertical-align: top; }
table.runs > thead th { border-bottom: 2px solid var(--line);
  position: sticky; top: 0; background: #fff; }
tbody.run > tr:first-child td { border-top: 1px solid var(--line); }
tbody.run.failed > tr:first-child { background: #fdecea; }
tbody.run.drift > tr:first-child { background: #fff3e0; }
tbody.run.failed td.outcome { color: var(--failed); font-weight: 700; }
tbody.run.drift td.outcome { color: var(--drift); font-weight: 700; }
tbody.run.ok td.outcome { color: var(--ok); }
tbody.run:target > tr:first-child { outline: 2px solid #1a73e8; }
tr.steps > td { padding-top: 0; }
summary { cursor: pointer; color: var(--muted); font-size: .9em; }
table.steps { margin: .2em 0 .6em; font-size: .92em; }
table.steps th { color: var(--muted); font-weight: 600; white-space: nowrap;
  border-bottom: 1px solid var(--line); }
table.steps tr.failed { background: #fdecea; color: #8e1a14; }
table.steps tr.drift { background: #fff3e0; }
td { overflow-wrap: anywhere; }
#filter input { font: inherit; padding: .2em .4em; width: 22em;
  max-width: 100%; }
@media print {
  body { font-size: 10pt; max-width: none; padding: 0; }
  #filter { display: none; }
  summary { display: none; }
  details::details-content { content-visibility: visible;
    display: block; }
  tbody.run { break-inside: avoid; }
  table.runs > thead th { position: static; }
  tbody.run.failed > tr:first-child, table.steps tr.failed {
    background: none; border-left: 3px solid var(--failed); }
  svg.timeline { break-inside: avoid; border: none; }
  * { -webkit-print-color-adjust: exact; print-color-adjust: exact; }
}
'''

SCRIPT = '''
(function () {
  "use strict";
  var box = document.getElementById("filter");
  var input = document.getElementById("filter-text");
  var count = document.getElementById("filter-count");
  var runs = Array.prototype.slice.call(
    document.querySelectorAll("tbody.run"));
  var texts = runs.map(function (run) {
    return run.textContent.toLowerCase();
  });
  function apply() {
    var words = input.value.toLowerCase().split(/\\s+/).filter(Boolean);
    var shown = 0;
    runs.forEach(function (run, i) {
      var match = words.every(function (word) {
        return texts[i].indexOf(word) >= 0;
      });
      run.hidden = !match;
      if (match) { shown += 1; }
    });
    count.textContent = words.length ?
      shown + " of " + runs.length + " runs" : "";
  }
  box.hidden = false;
  input.addEventListener("input", apply);
  window.addEventListener("beforeprint", function () {
    document.querySelectorAll("details").forEach(function (d) {
      d.open = true;
    });
  });
})();
'''
