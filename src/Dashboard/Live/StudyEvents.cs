using HyperTune.Dashboard.Data;

namespace HyperTune.Dashboard.Live;

/// <summary>Something committed that open pages may want to show.</summary>
public abstract record LiveEvent;

/// <summary>A trial's state or summary values changed.</summary>
public sealed record TrialChanged(TrialView Trial) : LiveEvent;

/// <summary>A new epoch report was committed.</summary>
public sealed record EpochRecorded(long StudyId, EpochPoint Point) : LiveEvent;

/// <summary>Lines were added to the tail of a trial's log.</summary>
public sealed record TrialLogAppended(long StudyId, long TrialId, int Attempt, IReadOnlyList<string> Lines) : LiveEvent;

/// <summary>A study was created.</summary>
public sealed record StudyCreated(long StudyId) : LiveEvent;

/// <summary>A study's stages changed (one proposed, started or narrowed).</summary>
public sealed record StagesChanged(long StudyId) : LiveEvent;

/// <summary>A person changed a study's notes.</summary>
public sealed record StudyNotesChanged(long StudyId) : LiveEvent;

/// <summary>An agent connected, disconnected or changed its slot use.</summary>
public sealed record AgentsChanged : LiveEvent;

/// <summary>An agent's heartbeat brought a telemetry sample (kept in <see cref="Agents.AgentRegistry"/>, not stored).</summary>
public sealed record TelemetryRecorded(string AgentId) : LiveEvent;

/// <summary>
/// In-process publication of committed changes. Publishers call after commit; subscribers (Blazor circuits)
/// must return quickly and marshal to their own dispatcher.
/// </summary>
public sealed class StudyEvents(ILogger<StudyEvents> logger)
{
    private readonly Lock gate = new();
    private ImmutableHandlers handlers = new([]);

    public IDisposable Subscribe(Action<LiveEvent> handler)
    {
        lock (gate)
        {
            handlers = new([.. handlers.List, handler]);
        }

        return new Subscription(this, handler);
    }

    public void Publish(LiveEvent e)
    {
        foreach (var handler in handlers.List)
        {
            try
            {
                handler(e);
            }
            catch (Exception ex)
            {
                logger.LogWarning(ex, "A live subscriber failed on {Event}", e.GetType().Name);
            }
        }
    }

    private void Unsubscribe(Action<LiveEvent> handler)
    {
        lock (gate)
        {
            handlers = new([.. handlers.List.Where(h => h != handler)]);
        }
    }

    private sealed record ImmutableHandlers(Action<LiveEvent>[] List);

    private sealed class Subscription(StudyEvents owner, Action<LiveEvent> handler) : IDisposable
    {
        public void Dispose() => owner.Unsubscribe(handler);
    }
}
