using System.CommandLine;
using EdgeLam.Fuzz.Engine;
using EdgeLam.Fuzz.Targets;

// edgelam-fuzz TARGET SECONDS: mutation-fuzzes a decoder for a time budget; exit 1 when anything was found.
var target = new Argument<string>("target") { Description = $"What to fuzz: {string.Join(", ", FuzzTargets.Names)} or all" };
target.AcceptOnlyFromAmong([.. FuzzTargets.Names, "all"]);
var seconds = new Argument<double>("seconds") { Description = "Seconds to fuzz (each target, for all)" };
var json = new Option<bool>("--json") { Description = "Print one JSON object per target: target, inputs, seconds, findings" };
var seed = new Option<int>("--seed") { Description = "Seed of the mutation sequence", DefaultValueFactory = _ => Environment.TickCount };
var findings = new Option<string>("--findings") { Description = "Folder for inputs that revealed a defect", DefaultValueFactory = _ => "fuzz-findings" };
var golden = new Option<string?>("--golden") { Description = "Folder of the golden vectors (default: tests/golden above the working directory)" };
var timeLimit = new Option<int>("--time-limit-ms") { Description = "An input running longer than this is a hang", DefaultValueFactory = _ => 2000 };
var root = new RootCommand("Mutation fuzzing of the EdgeLam wire decoders and the firmware's MQTT parser, seeded from tests/golden")
{
    target, seconds, json, seed, findings, golden, timeLimit,
};
root.SetAction(parseResult =>
{
    var budget = parseResult.GetValue(seconds);
    if (budget <= 0 || double.IsNaN(budget))
    {
        Console.Error.WriteLine($"seconds must be positive, got {budget}");
        return 2;
    }

    var goldenDirectory = parseResult.GetValue(golden) ?? GoldenSeeds.FindDirectory();
    var name = parseResult.GetValue(target)!;
    var options = new FuzzOptions
    {
        Budget = TimeSpan.FromSeconds(budget),
        Seed = parseResult.GetValue(seed),
        FindingsDirectory = parseResult.GetValue(findings),
        PerInputTimeLimit = TimeSpan.FromMilliseconds(parseResult.GetValue(timeLimit)),
    };
    var total = 0;
    foreach (var targetName in name == "all" ? FuzzTargets.Names : [name])
    {
        var report = MutationFuzzer.Run(FuzzTargets.Create(targetName, goldenDirectory), options);
        Console.Out.WriteLine(parseResult.GetValue(json) ? report.ToJson() : report.ToText());
        foreach (var finding in report.Findings)
            Console.Error.WriteLine($"  {finding.Kind}: {finding.InputPath ?? "(not saved)"}: {finding.Description.Split('\n')[0]}");
        total += report.Findings.Count;
    }

    if (!parseResult.GetValue(json)) Console.Out.WriteLine($"seed {options.Seed}; findings {total}");
    return total == 0 ? 0 : 1;
});
return root.Parse(args).Invoke();
