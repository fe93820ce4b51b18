using EdgeLam.Gateway.Training;
using EdgeLam.Gateway.Training.Strategies;

namespace EdgeLam.Gateway.Unlearning;

/// <summary>The strategies whose rounds unlearning can replay, by the name a round was recorded under.</summary>
public static class StrategyCatalog
{
    public static IFederatedStrategy Resolve(string name) => name switch
    {
        FedFtHStrategy.StrategyName => new FedFtHStrategy(),
        UniformLoraStrategy.StrategyName => new UniformLoraStrategy(),
        ZeroPaddedLoraStrategy.StrategyName => new ZeroPaddedLoraStrategy(),
        FullFedAvgStrategy.StrategyName => new FullFedAvgStrategy(),
        _ => throw new InvalidOperationException(
            $"Rounds recorded with strategy '{name}' cannot be replayed; unlearning knows {FedFtHStrategy.StrategyName}, {UniformLoraStrategy.StrategyName}, {ZeroPaddedLoraStrategy.StrategyName} and {FullFedAvgStrategy.StrategyName}."),
    };
}
