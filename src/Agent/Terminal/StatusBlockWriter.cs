using System.Text;

namespace HyperTune.Agent.Terminal;

/// <summary>
/// Standard output on a terminal: whatever is written (log lines) scrolls above a block of status lines that stays at the
/// bottom and is redrawn in place with ANSI cursor movements. Each status line must fit the terminal's width.
/// </summary>
public sealed class StatusBlockWriter(TextWriter inner) : TextWriter
{
    private readonly Lock _gate = new();
    private IReadOnlyList<string> _status = [];
    private int _drawn;
    private bool _midLine;

    public override Encoding Encoding => inner.Encoding;

    /// <summary>Replaces the status block (an empty list removes it).</summary>
    public void Show(IReadOnlyList<string> lines)
    {
        lock (_gate)
        {
            _status = lines;
            if (!_midLine)
            {
                Erase();
                Draw();
                inner.Flush();
            }
        }
    }

    public override void Write(char value) => Write(value.ToString());

    public override void Write(char[] buffer, int index, int count) => Write(new string(buffer, index, count));

    public override void Write(string? value)
    {
        if (string.IsNullOrEmpty(value))
        {
            return;
        }

        lock (_gate)
        {
            if (!_midLine)
            {
                Erase();
            }

            inner.Write(value);
            _midLine = !value.EndsWith('\n');
            if (!_midLine)
            {
                Draw();
            }

            inner.Flush();
        }
    }

    public override void Flush()
    {
        lock (_gate)
        {
            inner.Flush();
        }
    }

    private void Erase()
    {
        if (_drawn > 0)
        {
            // Back to the block's first line, then clear to the end of the screen.
            inner.Write(_drawn > 1 ? $"\r\e[{_drawn - 1}A\e[J" : "\r\e[J");
            _drawn = 0;
        }
    }

    private void Draw()
    {
        if (_status.Count > 0)
        {
            inner.Write(string.Join('\n', _status));
            _drawn = _status.Count;
        }
    }
}
