using EdgeLam.Gateway.Inference.Scheduling;

namespace EdgeLam.Gateway.Tests.Inference;

/// <summary>
/// Queue stability of drift-plus-penalty (Neely 2010, ch. 4): the real decision path over FIFO devices in virtual
/// time, with Poisson arrivals below and above the fleet's capacity.
/// </summary>
public sealed class BacklogStabilityTests
{
    private const int Stages = 3;

    // One fast device that draws more power, two slow frugal ones.
    private static readonly SimulatedDevice[] Fleet = [new("fast", 2, 15), new("slow-a", 5, 3), new("slow-b", 5, 3)];

    [Theory]
    [InlineData(0.1)]
    [InlineData(1)]
    [InlineData(10)]
    public void Backlog_stays_bounded_below_capacity_and_grows_without_bound_above_it(double tradeoff)
    {
        var capacity = SchedulerSimulation.CapacityPerMillisecond(Fleet, Stages);

        var below = SchedulerSimulation.Run(Fleet, Stages, 0.7 * capacity, requests: 20_000, tradeoff, seed: 3);
        Assert.Equal(0, below.Failures);
        // Bounded: the second half of the run holds no more backlog than the first, and a bounded amount of work at most.
        Assert.True(below.SecondHalfMeanBacklogMilliseconds <= (1.5 * below.FirstHalfMeanBacklogMilliseconds) + 5, below.ToString());
        Assert.True(below.MaxBacklogMilliseconds < 200 + (20 * tradeoff), below.ToString());

        var above = SchedulerSimulation.Run(Fleet, Stages, 1.3 * capacity, requests: 20_000, tradeoff, seed: 3);
        Assert.True(above.SecondHalfMeanBacklogMilliseconds > 2 * above.FirstHalfMeanBacklogMilliseconds, above.ToString());
        Assert.True(above.MaxBacklogMilliseconds > 10 * below.MaxBacklogMilliseconds, $"above: {above}; below: {below}");
    }

    [Fact]
    public void Larger_V_buys_lower_cost_with_more_backlog()
    {
        var rate = 0.7 * SchedulerSimulation.CapacityPerMillisecond(Fleet, Stages);
        var cheap = SchedulerSimulation.Run(Fleet, Stages, rate, requests: 10_000, tradeoff: 1000, seed: 5);
        var short_ = SchedulerSimulation.Run(Fleet, Stages, rate, requests: 10_000, tradeoff: 0, seed: 5);
        Assert.True(cheap.MeanPenalty < short_.MeanPenalty, $"V=1000: {cheap}; V=0: {short_}");
        Assert.True(cheap.MeanBacklogMilliseconds > short_.MeanBacklogMilliseconds, $"V=1000: {cheap}; V=0: {short_}");
    }
}
