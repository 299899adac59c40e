// The learning-curves chart's browser side. Plotly.Blazor creates the plot and redraws it whole; live points go through
// addCurve and extendCurve here, in the order the circuit sends them, each carrying its own values.

// Resolves once Plotly has drawn the plot (plotly.js may still be loading when .NET asks it to), false if it left the page.
export function whenDrawn(id) {
  return new Promise(resolve => {
    const drawn = () => {
      const plot = document.getElementById(id);
      if (!plot) {
        resolve(false);
        return true;
      }

      if (plot._fullLayout && plot.on) {
        resolve(true);
        return true;
      }

      return false;
    };
    if (!drawn()) {
      // Plotly.newPlot draws in one task, adding its SVG: the first change seen with its layout set is the drawn plot.
      const observer = new MutationObserver(() => drawn() && observer.disconnect());
      observer.observe(document.body, { childList: true, subtree: true });
    }
  });
}

// Hovering one learning curve fades the others, so one trial stands out among dozens; leaving the plot restores them.
// The fading is browser-only (no round trip to the server) and the next redraw from the server clears it.
export function highlightOnHover(id) {
  const plot = document.getElementById(id);
  if (!plot || !plot.on || plot.dataset.highlight === 'on') {
    return;
  }

  plot.dataset.highlight = 'on';
  let lit = null;
  plot.on('plotly_hover', event => {
    const curve = event.points[0].curveNumber;
    if (curve === lit) {
      return;
    }

    lit = curve;
    plot.dataset.highlighted = String(curve);
    Plotly.restyle(plot, { opacity: plot.data.map((_, i) => (i === curve ? 1 : 0.15)) });
  });
  plot.on('plotly_unhover', () => {
    lit = null;
    delete plot.dataset.highlighted;
    Plotly.restyle(plot, { opacity: 1 });
  });
}

// A trial's first point: its curve joins the plot (one more trace, the rest untouched).
export function addCurve(id, curve) {
  const plot = document.getElementById(id);
  if (plot && plot.data) {
    Plotly.addTraces(plot, [curve]);
  }
}

// One more epoch on the curve at `index`.
export function extendCurve(id, index, x, y) {
  const plot = document.getElementById(id);
  if (plot && plot.data && index < plot.data.length) {
    Plotly.extendTraces(plot, { x: [[x]], y: [[y]] }, [index]);
  }
}
