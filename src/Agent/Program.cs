using HyperTune.Agent;

// The table of contents is AgentApp.Build: options, torch workloads, trial slots, hub connection.
await AgentApp.Build(args).RunAsync();
