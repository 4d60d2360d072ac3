"""The explorer's page: HTML, CSS and a small script of its own (no library, no network request).

``%%TITLE%%``, ``%%LEGEND%%``, ``%%SVGS%%`` and ``%%DATA%%`` are filled in by ``explore.py``.
"""

PAGE = r"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>%%TITLE%%</title>
<style>
body{font-family:Helvetica,Arial,sans-serif;margin:0;display:flex;flex-direction:column;height:100vh}
#bar{padding:6px 10px;background:#f4f4f4;border-bottom:1px solid #ccc;display:flex;gap:8px;align-items:center;flex-wrap:wrap}
#bar h1{font-size:14px;margin:0 12px 0 0}
#main{flex:1;display:flex;min-height:0}
#canvas{flex:1;overflow:auto;padding:8px}
#panel{width:360px;overflow:auto;border-left:1px solid #ccc;padding:8px;font-size:12px;background:#fcfcfc}
.view{display:none}.view.on{display:block}
.view svg{max-width:none}
g.node{cursor:pointer}
g.graph>polygon{pointer-events:none}
g.node.pending{opacity:.35}
g.node.current polygon,g.node.current ellipse,g.node.current path{stroke:#e0218a;stroke-width:3px}
g.node.selected polygon,g.node.selected ellipse,g.node.selected path{stroke:#1f5fbf;stroke-width:3px}
text.gov{font-size:9px;fill:#1c7c35}
#panel h2{font-size:14px;margin:4px 0}
#panel table{border-collapse:collapse;width:100%}
#panel td{border-bottom:1px solid #eee;padding:2px 4px;vertical-align:top}
#panel td.k{color:#666;width:90px}
.mono{font-family:monospace;white-space:pre-wrap}
.lg{display:inline-flex;align-items:center;margin-right:8px;font-size:11px}
.lg span{display:inline-block;width:12px;height:12px;border:1px solid #888;margin-right:3px}
#status{font-size:12px;color:#333;min-width:280px}
</style></head><body>
<div id="bar"><h1>%%TITLE%%</h1>
<button id="toggle-view">show backward</button>
<button id="toggle-collapse">collapse modules</button>
<button id="first">|&lt;</button><button id="prev">&lt; step</button>
<input id="slider" type="range" min="0" value="0" step="1">
<button id="next">step &gt;</button><button id="last">&gt;|</button>
<span id="status"></span>
<input id="find" placeholder="find by name" size="16"><button id="find-go">find</button>
</div>
<div id="bar2" style="padding:3px 10px;border-bottom:1px solid #ddd">%%LEGEND%%</div>
<div id="main"><div id="canvas">%%SVGS%%</div>
<div id="panel"><h2 id="p-name">click a node</h2><table id="p-table"></table>
<h2>leaf gradients so far</h2><table id="leaf-grads"></table></div></div>
<script id="data" type="application/json">%%DATA%%</script>
<script>
(function(){
"use strict";
var D = JSON.parse(document.getElementById("data").textContent);
var N = D.nodes, S = D.steps;
var state = {view: "forward", collapsed: !!D.start_collapsed, step: 0, selected: null};
if (!document.getElementById("view-forward_collapsed")) { document.getElementById("toggle-collapse").disabled = true; state.collapsed = false; }
var cum = [], cur = {};
S.forEach(function(s){ for (var k in s.grads) cur[k] = s.grads[k]; cum.push(Object.assign({}, cur)); });
var slider = document.getElementById("slider");
slider.max = S.length - 1;

function esc(t){ return String(t).replace(/&/g,"&amp;").replace(/</g,"&lt;").replace(/>/g,"&gt;"); }
function idOf(title){ return title.replace(/^[gbs]_/, ""); }
function text(d){
  if (!d) return "?";
  if (d.scalar !== undefined) return d.scalar;
  if (d.text) return d.text;
  var t = "[" + d.first.join(", ") + (d.size > d.first.length ? ", ..." : "") + "]";
  if (d.norm !== undefined) t += "\nmean " + d.mean + " std " + d.std + "\nmin " + d.min + " max " + d.max + " norm " + d.norm;
  if (d.nonfinite) t += "\n" + d.nonfinite + " non-finite";
  return t;
}
function short(d){
  if (!d) return "grad ?";
  if (d.scalar !== undefined) return "grad " + d.scalar;
  return "grad norm " + (d.norm !== undefined ? d.norm : "?");
}
function hist(d){
  if (!d || !d.hist) return "";
  var m = Math.max.apply(null, d.hist) || 1, w = 14, h = 40, out = '<svg width="' + (w * d.hist.length) + '" height="' + (h + 12) + '">';
  d.hist.forEach(function(c, i){ var bh = Math.round(h * c / m); out += '<rect x="' + (i * w) + '" y="' + (h - bh) + '" width="' + (w - 2) + '" height="' + bh + '" fill="#5b8bd0"></rect>'; });
  return out + '<text x="0" y="' + (h + 10) + '" font-size="9">' + esc(d.hist_range[0]) + '</text><text x="' + (w * d.hist.length) + '" y="' + (h + 10) + '" font-size="9" text-anchor="end">' + esc(d.hist_range[1]) + '</text></svg>';
}
function viewKey(){ return state.view + (state.collapsed ? "_collapsed" : ""); }
function shownId(id){ return state.collapsed && D.box_of && D.box_of[id] ? D.box_of[id] : id; }
function gradAt(id){ return cum[state.step][id]; }

function paint(){
  var key = viewKey();
  document.querySelectorAll(".view").forEach(function(v){ v.classList.toggle("on", v.dataset.view === key); });
  var step = S[state.step], hl = {};
  step.highlight.forEach(function(id){ hl[shownId(id)] = true; });
  var svg = document.querySelector("#view-" + key + " svg");
  svg.querySelectorAll("g.node").forEach(function(g){
    var title = g.querySelector("title").textContent, id = idOf(title), n = N[id];
    g.classList.toggle("current", !!hl[id]);
    g.classList.toggle("selected", state.selected !== null && shownId(state.selected) === id);
    var pending = false;
    if (n && n.kind === "data" && n.requires_grad) pending = gradAt(id) === undefined;
    if (state.view === "backward" && title.indexOf("b_") === 0 && n && n.outputs) pending = n.outputs.some(function(o){ return gradAt(o) === undefined; });
    g.classList.toggle("pending", pending);
    if (state.view === "forward" && n && n.kind === "data" && n.requires_grad) {
      var t = g.querySelector("text.gov");
      if (!t) {
        var bb = g.getBBox();
        t = document.createElementNS("http://www.w3.org/2000/svg", "text");
        t.setAttribute("class", "gov"); t.setAttribute("x", bb.x + bb.width / 2); t.setAttribute("y", bb.y + bb.height + 10);
        t.setAttribute("text-anchor", "middle"); g.appendChild(t);
      }
      t.textContent = short(gradAt(id));
    }
  });
  slider.value = state.step;
  var what = step.node === null ? "done: every gradient is in" : "processing " + (N[step.node].kind === "op" ? "op " + N[step.node].op + (N[step.node].scope ? " in " + N[step.node].scope : "") + " -> " + N[step.node].output_label : N[step.node].label);
  document.getElementById("status").textContent = "step " + (state.step + 1) + "/" + S.length + ": " + what;
  document.getElementById("toggle-view").textContent = state.view === "forward" ? "show backward" : "show forward";
  document.getElementById("toggle-collapse").textContent = state.collapsed ? "expand modules" : "collapse modules";
  leafTable();
  if (state.selected !== null) panel(state.selected);
}

function row(k, v, cls){ return '<tr><td class="k">' + esc(k) + '</td><td class="' + (cls || "mono") + '">' + v + '</td></tr>'; }
function panel(id){
  var n = N[id], rows = "";
  document.getElementById("p-name").textContent = n.label;
  if (n.kind === "data") {
    var g = n.requires_grad ? gradAt(id) : null;
    rows += row("kind", n.leaf ? (n.param ? "parameter" : "leaf / input") : "result of " + (n.made_by ? N[n.made_by].op : "?"));
    rows += row("shape", esc(JSON.stringify(n.shape))) + row("dtype", esc(n.dtype));
    if (n.scope) rows += row("module", esc(n.scope));
    rows += row("value", esc(text(n.value)) + hist(n.value));
    rows += '<tr><td class="k">gradient</td><td class="mono" id="p-grad">' + (n.requires_grad ? esc(text(g)) : "none (no grad)") + '</td></tr>';
    if (g) rows += row("", hist(g), "");
    if (n.made_by) {
      var op = N[n.made_by];
      rows += row("incoming", "g = dL/d" + esc(n.label) + " (this gradient), into " + esc(op.op) + " backward");
      op.args.forEach(function(a){ if (a.requires_grad) rows += row("to " + a.label, (a.local ? "local d/d" + esc(a.label) + " = " + esc(a.local) + (a.local_value ? " = " + a.local_value : "") + "\n" : "") + "sends " + esc(a.outgoing) + (a.outgoing_value ? " = " + a.outgoing_value : "")); });
    }
    if (n.used_by.length) rows += row("read by", esc(n.used_by.map(function(o){ return N[o].op; }).join(", ")));
  } else if (n.kind === "module") {
    rows += row("module", esc(n.label)) + row("ops", esc(n.ops.length + ": " + n.ops.join(", ")));
    if (n.params.length) rows += row("parameters", esc(n.params.join("\n")));
    if (n.grads.length) rows += row("gradients", esc(n.grads.join("\n")));
    rows += row("", '<button id="expand-module">expand modules</button>', "");
  } else {
    rows += row("op", esc(n.op)) + (n.scope ? row("module", esc(n.scope)) : "");
    n.outputs.forEach(function(o){ rows += row("incoming", "g = dL/d" + esc(N[o].label) + "\n" + esc(text(gradAt(o)))); });
    n.args.forEach(function(a){ if (a.requires_grad) rows += row("to " + a.label, (a.local ? "local d/d" + esc(a.label) + " = " + esc(a.local) + (a.local_value ? " = " + a.local_value : "") + "\n" : "") + "outgoing " + esc(a.outgoing) + (a.outgoing_value ? " = " + a.outgoing_value : "")); });
  }
  document.getElementById("p-table").innerHTML = rows;
  var ex = document.getElementById("expand-module");
  if (ex) ex.onclick = function(){ state.collapsed = false; select(n.members[0]); };
}
function leafTable(){
  var rows = "";
  Object.keys(N).forEach(function(id){
    var n = N[id];
    if (n.kind === "data" && n.leaf && n.requires_grad) rows += '<tr data-id="' + id + '"><td class="k">' + esc(n.label) + '</td><td class="mono grad">' + esc(text(gradAt(id))) + '</td></tr>';
  });
  document.getElementById("leaf-grads").innerHTML = rows;
}
function select(id){ state.selected = id; paint(); }
function go(k){ state.step = Math.max(0, Math.min(S.length - 1, k)); paint(); }

document.getElementById("canvas").addEventListener("click", function(ev){
  var g = ev.target.closest("g.node");
  if (!g) return;
  var id = idOf(g.querySelector("title").textContent);
  if (N[id]) select(id);
});
document.getElementById("toggle-view").onclick = function(){ state.view = state.view === "forward" ? "backward" : "forward"; paint(); };
document.getElementById("toggle-collapse").onclick = function(){ state.collapsed = !state.collapsed; paint(); };
document.getElementById("first").onclick = function(){ go(0); };
document.getElementById("prev").onclick = function(){ go(state.step - 1); };
document.getElementById("next").onclick = function(){ go(state.step + 1); };
document.getElementById("last").onclick = function(){ go(S.length - 1); };
slider.oninput = function(){ go(parseInt(slider.value, 10)); };
function find(){
  var q = document.getElementById("find").value.toLowerCase();
  if (!q) return;
  var hit = Object.keys(N).filter(function(id){ return String(N[id].label).toLowerCase().indexOf(q) >= 0; })[0];
  if (hit === undefined) { document.getElementById("status").textContent = "no node named like " + q; return; }
  if (state.collapsed && D.box_of && D.box_of[hit]) state.collapsed = false;
  select(hit);
  var g = Array.prototype.filter.call(document.querySelectorAll("#view-" + viewKey() + " g.node"), function(e){ return idOf(e.querySelector("title").textContent) === hit; })[0];
  if (g && g.scrollIntoView) g.scrollIntoView({block: "center", inline: "center"});
}
document.getElementById("find-go").onclick = find;
document.getElementById("find").addEventListener("keydown", function(ev){ if (ev.key === "Enter") find(); });
paint();
})();
</script></body></html>
"""
