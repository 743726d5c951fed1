// Draws a DAG left to right: ELK (elkjs, vendored at build time) lays it out, this file only
// turns ELK's coordinates into SVG. Labels are set with textContent, never as markup.
(function () {
  "use strict";
  var SVGNS = "http://www.w3.org/2000/svg";
  var CHAR_W = 7.4, NODE_H = 46, PAD = 16;

  function el(name, attrs, parent) {
    var node = document.createElementNS(SVGNS, name);
    Object.keys(attrs || {}).forEach(function (k) { node.setAttribute(k, attrs[k]); });
    if (parent) parent.appendChild(node);
    return node;
  }

  function width(n) {
    var longest = Math.max(String(n.label).length, String(n.sub || "").length);
    return Math.max(120, Math.min(320, Math.round(longest * CHAR_W + 2 * PAD)));
  }

  function setNode(g, n) {
    g.setAttribute("class", "node s-" + String(n.status || "unknown").replace(/\s+/g, "-") +
      (n.kind ? " k-" + n.kind : "") + (n.root ? " root" : "") +
      (g.classList.contains("selected") ? " selected" : ""));
    g.setAttribute("data-status", n.status || "");
    g.querySelector(".sub").textContent = n.sub || "";
  }

  function draw(container, nodes, edges, options) {
    options = options || {};
    var elk = new ELK();
    var graph = {
      id: "root",
      layoutOptions: {
        "elk.algorithm": "layered",
        "elk.direction": "RIGHT",
        "elk.edgeRouting": "ORTHOGONAL",
        "elk.layered.spacing.nodeNodeBetweenLayers": "56",
        "elk.spacing.nodeNode": "22",
        "elk.padding": "[top=12,left=12,bottom=12,right=12]"
      },
      children: nodes.map(function (n) { return { id: n.id, width: width(n), height: NODE_H }; }),
      edges: edges.map(function (e, i) {
        return { id: "edge" + i, sources: [e.source], targets: [e.target] };
      })
    };
    return elk.layout(graph).then(function (laid) {
      container.textContent = "";
      var svg = el("svg", {
        "class": "graph", width: laid.width, height: laid.height,
        viewBox: "0 0 " + laid.width + " " + laid.height, role: "img"
      }, container);
      // Fit the container's width, down to 55% scale; a larger graph scrolls instead.
      var room = container.clientWidth - 4;
      if (room > 0 && laid.width > room) {
        var w = Math.max(room, laid.width * 0.55);
        svg.setAttribute("width", w);
        svg.setAttribute("height", laid.height * w / laid.width);
      }
      var defs = el("defs", {}, svg);
      var marker = el("marker", {
        id: "arrow", viewBox: "0 0 10 10", refX: "10", refY: "5",
        markerWidth: "7", markerHeight: "7", orient: "auto-start-reverse"
      }, defs);
      el("path", { d: "M 0 0 L 10 5 L 0 10 z", "class": "arrow" }, marker);
      (laid.edges || []).forEach(function (e) {
        (e.sections || []).forEach(function (s) {
          var pts = [s.startPoint].concat(s.bendPoints || [], [s.endPoint]);
          el("path", {
            "class": "edge", "marker-end": "url(#arrow)",
            d: pts.map(function (p, i) { return (i ? "L" : "M") + p.x + "," + p.y; }).join(" ")
          }, svg);
        });
      });
      var byId = {};
      nodes.forEach(function (n) { byId[n.id] = n; });
      var elements = {};
      (laid.children || []).forEach(function (c) {
        var n = byId[c.id];
        var g = el("g", { transform: "translate(" + c.x + "," + c.y + ")", tabindex: "0" }, svg);
        g.setAttribute("data-node", n.id);
        el("rect", { width: c.width, height: c.height, rx: n.kind === "artifact" ? 18 : 6 }, g);
        var label = el("text", { x: PAD, y: 19, "class": "label" }, g);
        label.textContent = n.label;
        el("text", { x: PAD, y: 36, "class": "sub" }, g);
        var title = el("title", {}, g);
        title.textContent = n.title || n.label;
        setNode(g, n);
        function select() {
          Object.keys(elements).forEach(function (k) { elements[k].classList.remove("selected"); });
          g.classList.add("selected");
          if (options.onSelect) options.onSelect(n);
        }
        g.addEventListener("click", select);
        g.addEventListener("keydown", function (ev) { if (ev.key === "Enter") select(); });
        elements[n.id] = g;
      });
      return {
        svg: svg,
        element: function (id) { return elements[id]; },
        update: function (n) { if (elements[n.id]) setNode(elements[n.id], n); },
        select: function (id) { if (elements[id]) elements[id].dispatchEvent(new Event("click")); }
      };
    });
  }

  function readJSON(id) {
    return JSON.parse(document.getElementById(id).textContent);
  }

  window.headraceGraph = { draw: draw, readJSON: readJSON };
})();
