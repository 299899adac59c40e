using Markdig;
using Markdig.Renderers;

namespace HyperTune.Dashboard.Components;

/// <summary>
/// Renders people's Markdown notes as HTML that is safe to put in the page: raw HTML is shown as text, and a link or
/// image whose address is not http(s), mailto or relative (javascript:, data:, ...) points nowhere.
/// </summary>
public static class NotesMarkdown
{
    // CommonMark plus tables, task lists, strikethrough and bare links; no extension that lets text set HTML attributes.
    private static readonly MarkdownPipeline Pipeline = new MarkdownPipelineBuilder()
        .UsePipeTables()
        .UseTaskLists()
        .UseEmphasisExtras()
        .UseAutoLinks()
        .DisableHtml()
        .Build();

    private static readonly string[] SafeSchemes = ["http:", "https:", "mailto:"];

    public static string ToHtml(string? markdown)
    {
        if (string.IsNullOrWhiteSpace(markdown))
        {
            return "";
        }

        using var html = new StringWriter();
        var renderer = new HtmlRenderer(html) { LinkRewriter = SafeUrl };
        Pipeline.Setup(renderer);
        renderer.Render(Markdown.Parse(markdown, Pipeline));
        return html.ToString();
    }

    /// <summary>The address as it is when it is http(s), mailto or has no scheme (relative, #fragment); "#" otherwise.</summary>
    public static string SafeUrl(string url)
    {
        var trimmed = url.Trim();
        var colon = trimmed.IndexOf(':', StringComparison.Ordinal);
        var firstDelimiter = trimmed.IndexOfAny(['/', '?', '#']);
        var hasScheme = colon >= 0 && (firstDelimiter < 0 || colon < firstDelimiter);
        return !hasScheme || SafeSchemes.Any(s => trimmed.StartsWith(s, StringComparison.OrdinalIgnoreCase)) ? url : "#";
    }
}
