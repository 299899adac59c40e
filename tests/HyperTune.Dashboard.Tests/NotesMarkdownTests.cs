using System.Text.RegularExpressions;
using HyperTune.Dashboard.Components;

namespace HyperTune.Dashboard.Tests;

public sealed class NotesMarkdownTests
{
    [Fact]
    public void ToHtml_WithMarkdown_RendersEmphasisListsAndTables()
    {
        var html = NotesMarkdown.ToHtml("**lr 0.01** works\n\n- one\n- two\n\n| a | b |\n|---|---|\n| 1 | 2 |");

        Assert.Contains("<strong>lr 0.01</strong>", html, StringComparison.Ordinal);
        Assert.Contains("<li>two</li>", html, StringComparison.Ordinal);
        Assert.Contains("<td>2</td>", html, StringComparison.Ordinal);
    }

    [Fact]
    public void ToHtml_WithRawHtml_ShowsItAsText()
    {
        var html = NotesMarkdown.ToHtml("<script>alert(1)</script>\n\nand <img src=x onerror=alert(1)> inline");

        Assert.DoesNotContain("<script", html, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain("<img", html, StringComparison.OrdinalIgnoreCase);
        Assert.Contains("&lt;script&gt;", html, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("[click](javascript:alert(1))")]
    [InlineData("[click](JavaScript:alert(1))")]
    [InlineData("![x](data:text/html;base64,PHNjcmlwdD4=)")]
    [InlineData("<vbscript:msgbox(1)>")]
    public void ToHtml_WithUnsafeLink_PointsItNowhere(string markdown)
    {
        var html = NotesMarkdown.ToHtml(markdown);

        var addresses = Regex.Matches(html, "(?:href|src)=\"([^\"]*)\"").Select(m => m.Groups[1].Value).ToList();
        Assert.Equal(["#"], addresses);
    }

    [Theory]
    [InlineData("https://example.org/run?id=3", "https://example.org/run?id=3")]
    [InlineData("mailto:team@example.org", "mailto:team@example.org")]
    [InlineData("/studies/3", "/studies/3")]
    [InlineData("#trial-4", "#trial-4")]
    [InlineData("runs/a:b", "runs/a:b")]
    [InlineData("javascript:alert(1)", "#")]
    [InlineData(" javascript:alert(1)", "#")]
    [InlineData("file:///etc/passwd", "#")]
    public void SafeUrl_KeepsWebAndRelativeAddressesOnly(string url, string expected)
    {
        Assert.Equal(expected, NotesMarkdown.SafeUrl(url));
    }

    [Fact]
    public void ToHtml_WithBlankText_RendersNothing()
    {
        Assert.Equal("", NotesMarkdown.ToHtml("  \n "));
    }
}
