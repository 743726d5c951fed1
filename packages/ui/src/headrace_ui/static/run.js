// The run page: the DAG with each node's status, the node panel, and live statuses from the
// server's event stream while the run is in progress.
(function () {
  "use strict";
  var data = window.headraceGraph.readJSON("run-data");
  var panel = document.getElementById("panel");
  var nodes = {};
  var selected = null;

  function describe(n) {
    var sub = n.status;
    if (typeof n.duration === "number" && n.status !== "running") sub += " · " + n.duration.toFixed(1) + " s";
    return sub;
  }

  function showNode(id) {
    selected = id;
    var url = data.node_url + "&node=" + encodeURIComponent(id) + "&partial=1";
    fetch(url, { headers: { Accept: "text/html" } }).then(function (r) { return r.text(); })
      .then(function (html) {
        if (selected !== id) return;
        // Server-rendered with every value escaped (Jinja2 autoescape).
        panel.innerHTML = html;
      });
    var page = new URL(window.location.href);
    page.searchParams.set("node", id);
    window.history.replaceState(null, "", page.toString());
  }

  var list = data.nodes.map(function (n) {
    var node = { id: n.id, label: n.id, status: n.status, duration: n.duration,
                 title: n.message ? n.id + ": " + n.message : n.id };
    node.sub = describe(node);
    nodes[n.id] = node;
    return node;
  });

  window.headraceGraph.draw(document.getElementById("dag"), list, data.edges, {
    onSelect: function (n) { showNode(n.id); }
  }).then(function (graph) {
    document.getElementById("dag").setAttribute("data-ready", "1");
    if (data.selected && nodes[data.selected]) graph.select(data.selected);
    if (data.status !== "running" || !window.EventSource) return;
    var source = new EventSource(data.events_url);
    source.addEventListener("status", function (ev) {
      var state = JSON.parse(ev.data);
      Object.keys(state.nodes).forEach(function (id) {
        var n = nodes[id];
        if (!n) return;
        var status = state.nodes[id].status;
        if (n.status !== status) {
          n.status = status;
          n.duration = null;
          n.sub = describe(n);
          graph.update(n);
          if (selected === id) showNode(id);
        }
      });
      var badge = document.getElementById("run-status");
      badge.textContent = state.run_status;
      badge.className = "badge s-" + state.run_status;
    });
    source.addEventListener("done", function () { source.close(); });
  });
})();
