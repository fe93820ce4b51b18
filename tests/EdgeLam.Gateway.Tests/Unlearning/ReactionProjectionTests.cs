using EdgeLam.Gateway.Training;
using EdgeLam.Gateway.Unlearning.Methods;

namespace EdgeLam.Gateway.Tests.Unlearning;

public sealed class ReactionProjectionTests
{
    /// <summary>Rank-one factors B = column·row (Out=4, In=3) with scale 1.</summary>
    private static LoraFactors RankOne(float[] column, float[] row) => new(1, row.Length, column.Length, row, column, 1f);

    private static DenseUpdate Dense(int outFeatures, int inFeatures, params (int Row, int Column, double Value)[] entries)
    {
        var update = new DenseUpdate(outFeatures, inFeatures);
        foreach (var (row, column, value) in entries)
            update.Values[(row * inFeatures) + column] = value;
        return update;
    }

    [Fact]
    public void A_change_loses_its_parts_in_the_contributed_column_and_row_spaces_and_keeps_the_rest()
    {
        // F = e0·e1ᵀ (a fresh start, B = 0, adds nothing): U = span(e0), V = span(e1).
        var projection = new ReactionProjection();
        projection.Add(RankOne([1, 0, 0, 0], [0, 1, 0]), RankOne([0, 0, 0, 0], [0.3f, 0.2f, 0.9f]));
        Assert.Equal((1, 1), (projection.ColumnRank, projection.RowRank));

        // X = 2·e0·e2ᵀ (in U's column space) + 3·e2·e1ᵀ (in V's row space) + 5·e3·e2ᵀ (in neither).
        var change = Dense(4, 3, (0, 2, 2), (2, 1, 3), (3, 2, 5));
        projection.Apply(change);

        Assert.Equal(Dense(4, 3, (3, 2, 5)).Values, change.Values);
    }

    [Fact]
    public void A_factor_already_in_the_span_adds_no_dimension_and_nothing_added_changes_nothing()
    {
        var projection = new ReactionProjection();
        var change = Dense(4, 3, (1, 1, 7));
        projection.Apply(change);
        Assert.Equal(7, change.Values[4]);

        projection.Add(RankOne([1, 1, 0, 0], [1, 0, 0]), RankOne([2, 2, 0, 0], [0, 0, 1]));
        Assert.Equal((1, 2), (projection.ColumnRank, projection.RowRank));
    }

    [Fact]
    public void A_change_of_another_shape_is_refused()
    {
        var projection = new ReactionProjection();
        projection.Add(RankOne([1, 0, 0, 0], [0, 1, 0]), RankOne([0, 0, 0, 0], [0, 0, 0]));
        Assert.Throws<ArgumentException>(() => projection.Apply(new DenseUpdate(3, 4)));
    }
}
