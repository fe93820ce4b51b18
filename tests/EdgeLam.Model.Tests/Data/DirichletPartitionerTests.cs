using EdgeLam.Model.Data;

namespace EdgeLam.Model.Tests.Data;

public sealed class DirichletPartitionerTests
{
    private static Dataset Train => SharedData.Fashion.Train;

    [Fact]
    public void Same_seed_gives_the_same_partition()
    {
        var options = new DirichletPartitionOptions(DeviceCount: 8, Alpha: 0.5, Seed: 7, PublicCount: 1000, DevicePoolCount: 5000);
        DataPartition first = DirichletPartitioner.Partition(Train, options);
        DataPartition second = DirichletPartitioner.Partition(Train, options);
        Assert.Equal(first.PublicIndices, second.PublicIndices);
        for (int d = 0; d < 8; d++)
            Assert.Equal(first.DeviceIndices[d], second.DeviceIndices[d]);

        DataPartition other = DirichletPartitioner.Partition(Train, options with { Seed = 8 });
        Assert.NotEqual(first.DeviceIndices[0], other.DeviceIndices[0]);
        Assert.Equal(first.PublicIndices, other.PublicIndices);
    }

    [Fact]
    public void Shards_and_public_slice_are_disjoint_and_cover_the_pool()
    {
        var options = new DirichletPartitionOptions(DeviceCount: 10, Alpha: 0.3, Seed: 3, PublicCount: 6000, PublicSeed: 11);
        DataPartition partition = DirichletPartitioner.Partition(Train, options);
        int[] all = partition.PublicIndices.Concat(partition.DeviceIndices.SelectMany(shard => shard)).ToArray();
        Assert.Equal(all.Length, all.Distinct().Count());
        Assert.Equal(Train.Count, all.Length);
        Assert.Equal(6000, partition.PublicIndices.Length);
        Assert.All(partition.DeviceIndices, shard => Assert.NotEmpty(shard));

        (int[] publicSlice, _) = DirichletPartitioner.SelectPublicSlice(Train, 6000, 11);
        Assert.Equal(publicSlice, partition.PublicIndices);
    }

    [Fact]
    public void Skew_grows_as_alpha_shrinks()
    {
        double Skew(double alpha)
        {
            var options = new DirichletPartitionOptions(DeviceCount: 10, Alpha: alpha, Seed: 5, PublicCount: 1000, DevicePoolCount: 10000);
            DataPartition partition = DirichletPartitioner.Partition(Train, options);
            // Mean total-variation distance between each device's label distribution and the uniform one.
            return partition.LabelDistributions(Train).Average(fractions => 0.5 * fractions.Sum(f => Math.Abs(f - 0.1)));
        }

        double nearlyIid = Skew(1000), moderate = Skew(1.0), extreme = Skew(0.05);
        Assert.True(nearlyIid < 0.05, $"alpha=1000 skew {nearlyIid}");
        Assert.True(moderate > nearlyIid + 0.1, $"alpha=1 skew {moderate} vs {nearlyIid}");
        Assert.True(extreme > moderate + 0.1, $"alpha=0.05 skew {extreme} vs {moderate}");
    }

    [Fact]
    public void Gamma_sampler_matches_its_mean_and_variance()
    {
        var random = new SeededRandom(42);
        foreach (double shape in new[] { 0.2, 1.0, 4.5 })
        {
            double[] samples = Enumerable.Range(0, 20000).Select(_ => random.NextGamma(shape)).ToArray();
            double mean = samples.Average();
            double variance = samples.Sum(s => (s - mean) * (s - mean)) / samples.Length;
            Assert.InRange(mean, shape * 0.95, shape * 1.05);
            Assert.InRange(variance, shape * 0.9, shape * 1.1);
        }
    }

    [Fact]
    public void Seeded_random_sequence_is_fixed()
    {
        // SplitMix64 reference values for seed 0 (Vigna's splitmix64.c).
        var random = new SeededRandom(0);
        Assert.Equal(0xE220A8397B1DCDAFUL, random.NextUInt64());
        Assert.Equal(0x6E789E6AA1B965F4UL, random.NextUInt64());
    }

    [Fact]
    public void Impossible_minimum_is_a_clear_error()
    {
        var options = new DirichletPartitionOptions(DeviceCount: 10, Alpha: 1, Seed: 1, DevicePoolCount: 5, MinimumPerDevice: 1);
        var error = Assert.Throws<ArgumentException>(() => DirichletPartitioner.Partition(Train, options));
        Assert.Contains("10 devices", error.Message);
    }
}
