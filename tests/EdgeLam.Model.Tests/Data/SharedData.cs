using EdgeLam.Model.Data;

namespace EdgeLam.Model.Tests.Data;

/// <summary>Fashion-MNIST loaded once per test run.</summary>
internal static class SharedData
{
    private static readonly Lazy<FashionMnistData> LazyFashion = new(() => FashionMnist.Load());

    public static FashionMnistData Fashion => LazyFashion.Value;
}
