using HyperTune.Agent;
using HyperTune.Agent.Terminal;

// --help lists every Agent:* key and exits before anything connects; otherwise AgentApp.Build is the table of contents.
if (AgentHelp.TryAnswer(args, Console.Out) is { } exitCode)
{
    return exitCode;
}

// The table of contents is AgentApp.Build: options, torch workloads, commands, trial slots, hub connection.
await AgentApp.Build(args).RunAsync();
return 0;
