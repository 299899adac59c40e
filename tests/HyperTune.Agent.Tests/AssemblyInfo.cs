// Trainings share two cores: run tests one at a time so that the cancellation deadline measures the agent, not contention.
[assembly: CollectionBehavior(DisableTestParallelization = true)]
