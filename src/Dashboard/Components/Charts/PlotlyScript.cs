using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Http;
using Microsoft.JSInterop;

namespace HyperTune.Dashboard.Components.Charts;

/// <summary>
/// The dashboard's plotly.js, built from the plotly.js npm package with only the traces its pages draw (scatter, bar,
/// contour, parallel coordinates: 1.3 MB against the 4.8 MB of Plotly.Blazor's full bundle, and about 0.5–0.8 s to evaluate
/// in headless Chromium on two cores against about 4 s), and
/// its early start: loading begins in the head of a page that draws plots, or when such a page is first shown after a
/// navigation inside the app, while it still loads its data.
/// </summary>
public static class PlotlyScript
{
    // Plotly.Blazor 7.2 loads plotly.js through its interop module's importScript, with this element id and this URL.
    // The browser keeps one instance of a module per page, so loading through it here marks plotly.js ready for every
    // chart; were the names to change in another version, its charts would load their own copy, as before.
    private const string InteropModule = "./_content/Plotly.Blazor/plotly-interop-7.2.0.js";
    private const string ScriptId = "plotly-import";
    private const string ScriptUrl = "./_content/Plotly.Blazor/plotly-3.7.0.min.js";

    /// <summary>Where build/PlotlyBundle.targets puts the dashboard's plotly.js (under wwwroot).</summary>
    public const string BundlePath = "lib/plotly-hypertune.min.js";

    /// <summary>The request path of Plotly.Blazor's plotly.js (any version), which the dashboard answers with its own build.</summary>
    public static readonly string PlotlyBlazorScriptPattern = @"^_content/Plotly\.Blazor/plotly-[0-9.]+\.min\.js$";

    // The study page and its compare page: /studies/{id} and /studies/{id}/compare.
    private static readonly Regex PlotPage = new(@"^/studies/[0-9]+(/compare)?/?$", RegexOptions.CultureInvariant);

    /// <summary>
    /// True for a request of a page that draws plots: its head then loads plotly.js at once (plotly-early.js), so the
    /// browser compiles it while the circuit connects. Other pages do not pay for it.
    /// </summary>
    public static bool DrawsPlots(PathString path) => PlotPage.IsMatch(path.Value ?? "");

    /// <summary>Asks the browser to load plotly.js and returns without waiting for it (after an in-app navigation to a plot page).</summary>
    public static void StartLoading(IJSRuntime js) => _ = LoadAsync(js);

    private static async Task LoadAsync(IJSRuntime js)
    {
        try
        {
            await using var module = await js.InvokeAsync<IJSObjectReference>("import", InteropModule);
            await module.InvokeVoidAsync("importScript", ScriptId, ScriptUrl);
        }
        catch (Exception e) when (e is JSException or JSDisconnectedException or TaskCanceledException or InvalidOperationException)
        {
            // The page closed, or the script failed to load: the first chart loads it again and reports what fails.
        }
    }
}
