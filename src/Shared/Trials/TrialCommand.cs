namespace HyperTune.Shared.Trials;

/// <summary>What a person asked of a trial from the UI or the REST API.</summary>
public enum TrialCommand
{
    /// <summary>End it between two batches (a command gets SIGINT, then SIGTERM, then is killed).</summary>
    Stop,

    /// <summary>End it at once, without a last checkpoint (a command's process tree is killed without a signal first).</summary>
    Kill,

    /// <summary>End it between two batches, keeping the checkpoint of its last finished epoch to resume from.</summary>
    Pause,

    /// <summary>Queue a paused trial again; it continues from its checkpoint.</summary>
    Resume,

    /// <summary>Queue an ended trial again as a new attempt from the start.</summary>
    Rerun,

    /// <summary>Queue a new trial with the same (or edited) parameters.</summary>
    Clone,

    /// <summary>Queue a new trial that continues from one of its checkpoints.</summary>
    Fork,
}

/// <summary>How far a person's command has got: requested (stored), delivered (its agent has it), done or failed.</summary>
public enum CommandDelivery
{
    Requested,
    Delivered,
    Done,
    Failed,
}

/// <summary>Words for <see cref="TrialCommand"/> and <see cref="CommandDelivery"/>.</summary>
public static class TrialCommands
{
    /// <summary>The command as the API and the page name it: "stop", "kill", "pause", "resume", "rerun", "clone", "fork".</summary>
    public static string ToWire(this TrialCommand command) => command.ToString().ToLowerInvariant();

    public static string ToWire(this CommandDelivery delivery) => delivery.ToString().ToLowerInvariant();

    /// <summary>The verb in a sentence: "stop", "kill", "pause", "resume", "re-run", "clone", "fork".</summary>
    public static string Verb(this TrialCommand command) => command == TrialCommand.Rerun ? "re-run" : command.ToWire();

    /// <summary>What the trial became once the command is done: "stopped", "killed", "paused", "resumed", "re-run started", "cloned", "forked".</summary>
    public static string Done(this TrialCommand command) => command switch
    {
        TrialCommand.Stop => "stopped",
        TrialCommand.Kill => "killed",
        TrialCommand.Pause => "paused",
        TrialCommand.Resume => "resumed",
        TrialCommand.Rerun => "re-run started",
        TrialCommand.Clone => "cloned",
        _ => "forked",
    };

    /// <summary>True for the commands that travel to the trial's agent as a StopTrial.</summary>
    public static bool EndsTheAttempt(this TrialCommand command) => command is TrialCommand.Stop or TrialCommand.Kill or TrialCommand.Pause;

    /// <summary>True while the command has not come to an end (requested or delivered).</summary>
    public static bool IsPending(this CommandDelivery delivery) => delivery is CommandDelivery.Requested or CommandDelivery.Delivered;
}
