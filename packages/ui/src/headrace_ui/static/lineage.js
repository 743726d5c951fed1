// The lineage page: artifacts and executions across runs; a click opens the node's links.
(function () {
  "use strict";
  var data = window.headraceGraph.readJSON("lineage-data");
  var panel = document.getElementById("panel");

  function link(text, href) {
    var a = document.createElement("a");
    a.textContent = text;
    a.href = href;
    var p = document.createElement("p");
    p.appendChild(a);
    return p;
  }

  function show(n) {
    panel.textContent = "";
    var h = document.createElement("h2");
    h.textContent = n.label;
    panel.appendChild(h);
    var sub = document.createElement("p");
    sub.textContent = n.sub;
    panel.appendChild(sub);
    if (n.kind === "artifact") {
      panel.appendChild(link("Artifact page", "/artifact?id=" + n.artifact_id));
      panel.appendChild(link("Lineage from here", "/lineage?artifact=" + n.artifact_id));
    } else {
      panel.appendChild(link("Node in its run", "/execution?id=" + n.execution_id));
      panel.appendChild(link("Lineage from here", "/lineage?execution=" + n.execution_id));
    }
  }

  var nodes = data.nodes.map(function (n) {
    return Object.assign({}, n, { title: n.label + " (" + n.sub + ")" });
  });
  window.headraceGraph.draw(document.getElementById("dag"), nodes, data.edges, {
    onSelect: show
  }).then(function () {
    document.getElementById("dag").setAttribute("data-ready", "1");
  });
})();
