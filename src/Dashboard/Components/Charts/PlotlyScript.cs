using Microsoft.JSInterop;

namespace HyperTune.Dashboard.Components.Charts;

/// <summary>
/// Starts loading plotly.js (4.8 MB, a second or two of script to compile and run on a small machine) when a page that
/// draws plots is first shown, while it still loads its data, instead of when its first chart asks for it.
/// </summary>
public static class PlotlyScript
{
    // Plotly.Blazor 7.2 loads plotly.js through its interop module's importScript, with this element id and this URL.
    // The browser keeps one instance of a module per page, so loading through it here marks plotly.js ready for every
    // chart; were the names to change in another version, its charts would load their own copy, as before.
    private const string InteropModule = "./_content/Plotly.Blazor/plotly-interop-7.2.0.js";
    private const string ScriptId = "plotly-import";
    private const string ScriptUrl = "./_content/Plotly.Blazor/plotly-3.7.0.min.js";

    /// <summary>Asks the browser to load plotly.js and returns without waiting for it.</summary>
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
