// Loaded from the page's head on pages that draw plots: starts plotly.js while the circuit connects and the study loads,
// through Plotly.Blazor's own interop module (one instance per page), so its charts find plotly.js loaded or loading.
import { importScript } from './_content/Plotly.Blazor/plotly-interop-7.2.0.js';

importScript('plotly-import', './_content/Plotly.Blazor/plotly-3.7.0.min.js').catch(() => {
  // The first chart loads it again and reports what fails.
});
