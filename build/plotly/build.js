// Bundles index.js into one minified script that sets window.Plotly: node build.js OUTFILE.
'use strict';

const outfile = process.argv[2];
if (!outfile) {
    console.error('usage: node build.js OUTFILE');
    process.exit(2);
}

require('esbuild').buildSync({
    entryPoints: [require('path').join(__dirname, 'index.js')],
    outfile,
    // plotly.js's own build settings: a global Plotly, no AMD, no Node globals.
    bundle: true,
    minify: true,
    format: 'iife',
    globalName: 'Plotly',
    target: 'es2016',
    define: { global: 'window', 'define.amd': 'false' },
    // Only map traces import a stylesheet, and none is registered.
    loader: { '.css': 'empty' },
    logLevel: 'warning',
});
