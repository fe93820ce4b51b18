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

    public static string Save(Plot plot, string directory, string fileName)
    {
        var path = Path.Combine(directory, fileName);
        plot.SavePng(path, Width, Height);
        return path;
    }
}
