using System.CommandLine;
using EdgeLam.Fuzz.Afl;
using EdgeLam.Fuzz.Targets;

// edgelam-afl: the decoders of edgelam-fuzz under AFL++ (SharpFuzz fork server) with code coverage as the guide.
var targetName = new Argument<string>("target") { Description = $"What to fuzz: {string.Join(", ", AflTargets.Names)}" };
targetName.AcceptOnlyFromAmong(AflTargets.Names);
var golden = new Option<string?>("--golden") { Description = "Folder of the golden vectors (default: tests/golden above the working directory)" };

var run = new Command("run", "Serve afl-fuzz: each input arrives on stdin; outside afl-fuzz, run stdin once (replays a crash)") { targetName, golden };
run.SetAction(parseResult =>
{
    var target = FuzzTargets.Create(parseResult.GetValue(targetName)!, parseResult.GetValue(golden) ?? GoldenSeeds.FindDirectory());
    AflTargets.Serve(target);
    return 0;
});

var folder = new Argument<string>("folder") { Description = "Folder to write the seed inputs into (created when missing)" };
var seeds = new Command("seeds", "Write the target's seed inputs (from tests/golden) into a folder, the afl-fuzz -i corpus") { targetName, folder, golden };
seeds.SetAction(parseResult =>
{
    var target = FuzzTargets.Create(parseResult.GetValue(targetName)!, parseResult.GetValue(golden) ?? GoldenSeeds.FindDirectory());
    var written = AflTargets.WriteSeeds(target, parseResult.GetValue(folder)!);
    Console.Out.WriteLine($"{target.Name}: {written} seed inputs in {parseResult.GetValue(folder)}");
    return 0;
});

return new RootCommand("AFL++ fuzzing of the EdgeLam wire decoders and the firmware's MQTT parser (instrumented by SharpFuzz)") { run, seeds }
    .Parse(args).Invoke();
