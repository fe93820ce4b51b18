using ScottPlot;

namespace EdgeLam.Cli.Demo;

/// <summary>PNG plots of the measured results (ScottPlot), one file per figure.</summary>
public static class DemoPlots
{
    private const int Width = 900;
    private const int Height = 520;

    public static string AccuracyPerRound(string directory, IReadOnlyList<StrategyRun> runs, double baseAccuracy)
    {
        var plot = new Plot();
        foreach (var run in runs)
        {
            double[] xs = [0, .. run.Rounds.Select(r => (double)r.Round)];
            double[] ys = [baseAccuracy * 100, .. run.Rounds.Select(r => r.Accuracy * 100)];
            var line = plot.Add.Scatter(xs, ys);
            line.LegendText = run.Strategy;
        }

        plot.Title("Test accuracy of the global model per round (measured)");
        plot.XLabel("round (0 = frozen base)");
        plot.YLabel("accuracy (%)");
        plot.ShowLegend(Alignment.LowerRight);
        return Save(plot, directory, "training-accuracy.png");
    }

    public static string BytesPerStrategy(string directory, IReadOnlyList<StrategyRun> runs)
    {
        var plot = new Plot();
        var ticks = new List<Tick>();
        for (var i = 0; i < runs.Count; i++)
        {
            plot.Add.Bar(new Bar { Position = i * 3, Value = runs[i].UplinkBytes / 1024.0, FillColor = Colors.SteelBlue });
            plot.Add.Bar(new Bar { Position = i * 3 + 1, Value = runs[i].DownlinkBytes / 1024.0, FillColor = Colors.DarkOrange });
            ticks.Add(new Tick(i * 3 + 0.5, runs[i].Strategy));
        }

        plot.Axes.Bottom.TickGenerator = new ScottPlot.TickGenerators.NumericManual(ticks.ToArray());
        plot.Title("Bytes on the wire per strategy, all rounds (blue: uplink, orange: downlink)");
        plot.YLabel("KiB");
        plot.Axes.Margins(bottom: 0);
        return Save(plot, directory, "training-bytes.png");
    }

    public static string LatencyCdf(string directory, IReadOnlyList<InferenceRun> runs)
    {
        var plot = new Plot();
        foreach (var run in runs.Where(r => r.LatenciesMilliseconds.Count > 0))
        {
            var xs = run.LatenciesMilliseconds.ToArray();
            var ys = Enumerable.Range(1, xs.Length).Select(i => i / (double)xs.Length).ToArray();
            plot.Add.Scatter(xs, ys).LegendText = run.Strategy;
        }

        plot.Title("Inference latency CDF per strategy (measured; cloud includes a modelled WAN round trip)");
        plot.XLabel("latency (ms)");
        plot.YLabel("fraction of requests");
        plot.ShowLegend(Alignment.LowerRight);
        return Save(plot, directory, "inference-latency-cdf.png");
    }

    public static string TradeoffSweep(string directory, IReadOnlyList<EdgeLam.Gateway.Inference.TradeoffPoint> points)
    {
        var plot = new Plot();
        var xs = points.Select(p => Math.Log10(p.Tradeoff)).ToArray();
        plot.Add.Scatter(xs, points.Select(p => p.MeanPenalty).ToArray()).LegendText = "mean penalty (cost)";
        var backlog = plot.Add.Scatter(xs, points.Select(p => p.MeanBacklogMilliseconds).ToArray());
        backlog.LegendText = "mean backlog (ms)";
        backlog.Axes.YAxis = plot.Axes.Right;
        plot.Title("Drift-plus-penalty: cost against backlog as V grows (measured)");
        plot.XLabel("log10 V");
        plot.YLabel("mean penalty");
        plot.Axes.Right.Label.Text = "mean backlog (ms)";
        plot.ShowLegend(Alignment.UpperCenter);
        return Save(plot, directory, "inference-v-sweep.png");
    }

    public static string Save(Plot plot, string directory, string fileName)
    {
        var path = Path.Combine(directory, fileName);
        plot.SavePng(path, Width, Height);
        return path;
    }
}
