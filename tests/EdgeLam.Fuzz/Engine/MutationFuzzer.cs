using System.Diagnostics;
using System.Security.Cryptography;
using System.Text;

namespace EdgeLam.Fuzz.Engine;

/// <summary>Settings of one fuzzing run.</summary>
public sealed record FuzzOptions
{
    /// <summary>How long to fuzz.</summary>
    public TimeSpan Budget { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>Stop after this many inputs even if time is left (tests use it to stay independent of machine speed).</summary>
    public long? MaximumInputs { get; init; }

    /// <summary>Seed of the mutation sequence; the same seed, target and input count give the same inputs.</summary>
    public int Seed { get; init; } = 1;

    /// <summary>An input that runs longer than this is a hang.</summary>
    public TimeSpan PerInputTimeLimit { get; init; } = TimeSpan.FromSeconds(2);

    /// <summary>Allocation allowed for any input: this many bytes plus <see cref="AllocationBytesPerInputByte"/> per input byte.</summary>
    public long AllocationBaseBytes { get; init; } = 8L * 1024 * 1024;

    /// <summary>Decoders must not allocate by a declared size before checking it (WIRE.md section 6), so allocation scales with the input.</summary>
    public long AllocationBytesPerInputByte { get; init; } = 512;

    /// <summary>Where inputs that revealed a defect are written (a folder per target); null keeps them in memory only.</summary>
    public string? FindingsDirectory { get; init; } = "fuzz-findings";

    /// <summary>Inputs that behave in a way not seen before join the corpus, up to this many.</summary>
    public int MaximumCorpus { get; init; } = 2048;
}

/// <summary>
/// A coverage-less mutation fuzzer: mutates seeds, feeds each input to the target on a worker thread, and counts
/// an input as a finding when it throws anything but the documented refusal, allocates beyond the limit, or runs
/// past the per-input time limit. Instead of code coverage, an input whose outcome (accepted, or refused with an
/// error not seen before) is new joins the corpus, so mutation moves past the first checks of a format.
/// </summary>
public static class MutationFuzzer
{
    /// <summary>
    /// Fuzzes <paramref name="target"/> for the options' budget and reports the counts. After a hang the worker thread
    /// cannot be stopped (.NET has no thread abort): it is a background thread left to finish or die with the process.
    /// </summary>
    public static FuzzReport Run(FuzzTarget target, FuzzOptions options, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(target);
        ArgumentNullException.ThrowIfNull(options);
        if (target.Seeds.Count == 0) throw new ArgumentException($"target '{target.Name}' has no seed inputs", nameof(target));
        var run = new FuzzRun(target, options);
        var worker = new Thread(run.Work) { IsBackground = true, Name = "fuzz-" + target.Name };
        var clock = Stopwatch.StartNew();
        worker.Start();
        while (clock.Elapsed < options.Budget && !cancellationToken.IsCancellationRequested && !run.Finished)
        {
            Thread.Sleep(Math.Clamp((int)(options.Budget - clock.Elapsed).TotalMilliseconds, 1, 20));
            // The seeds run first and pay for JIT compilation and first-use initialization: they get a generous limit.
            var limit = run.WarmedUp ? options.PerInputTimeLimit : WarmUpTimeLimit(options);
            if (run.CurrentInputRunningFor() is { } running && running > limit)
            {
                run.RecordHang(running, limit);
                break;
            }
        }

        run.Stop();
        if (!run.Hung) worker.Join();
        return run.Report(clock.Elapsed.TotalSeconds);
    }

    private static TimeSpan WarmUpTimeLimit(FuzzOptions options) =>
        options.PerInputTimeLimit > TimeSpan.FromSeconds(30) ? options.PerInputTimeLimit : TimeSpan.FromSeconds(30);

    /// <summary>The state of one run, shared by the worker (which executes) and the watchdog (which times).</summary>
    private sealed class FuzzRun(FuzzTarget target, FuzzOptions options)
    {
        private readonly List<byte[]> _corpus = [.. target.Seeds];
        private readonly HashSet<string> _outcomes = new(StringComparer.Ordinal);
        private readonly Dictionary<string, FuzzFinding> _findings = new(StringComparer.Ordinal);
        private readonly Lock _gate = new();
        private volatile bool _stop;
        private volatile bool _finished;
        private volatile bool _warmedUp;
        private long _inputs;
        private long _refusals;
        private long _accepted;
        private long _startedTimestamp;
        private byte[] _current = [];

        public bool Finished => _finished;

        public bool Hung { get; private set; }

        public bool WarmedUp => _warmedUp;

        public string? HarnessError { get; private set; }

        public void Work()
        {
            var random = new Random(options.Seed);
            var mutator = new Mutator(random, target.MaximumInputBytes);
            try
            {
                // Seeds first, unmutated: the golden vectors themselves must pass.
                foreach (var seed in target.Seeds)
                {
                    if (_stop) return;
                    Execute(seed);
                }

                _warmedUp = true;

                while (!_stop && (options.MaximumInputs is not { } most || Interlocked.Read(ref _inputs) < most))
                {
                    var parent = _corpus[random.Next(_corpus.Count)];
                    var other = _corpus[random.Next(_corpus.Count)];
                    Execute(mutator.Mutate(parent, other));
                }
            }
            catch (Exception error)
            {
                // A defect of the harness itself, not of the target: reported, never a crash of the host process.
                HarnessError = error.ToString();
            }
            finally
            {
                _finished = true;
            }
        }

        public TimeSpan? CurrentInputRunningFor()
        {
            var started = Interlocked.Read(ref _startedTimestamp);
            return started == 0 ? null : Stopwatch.GetElapsedTime(started);
        }

        public void RecordHang(TimeSpan running, TimeSpan limit)
        {
            Hung = true;
            var input = Volatile.Read(ref _current);
            AddFinding(FindingKind.Hang, "hang", $"input ran for {running.TotalMilliseconds:F0} ms, over the limit of {limit.TotalMilliseconds:F0} ms", input);
        }

        public void Stop() => _stop = true;

        public FuzzReport Report(double seconds)
        {
            if (HarnessError is { } error) throw new InvalidOperationException($"the fuzzing harness failed on target '{target.Name}': {error}");
            lock (_gate)
                return new FuzzReport(target.Name, Interlocked.Read(ref _inputs), seconds, Interlocked.Read(ref _accepted), Interlocked.Read(ref _refusals), [.. _findings.Values]);
        }

        private void Execute(byte[] input)
        {
            Volatile.Write(ref _current, input);
            var allocatedBefore = GC.GetAllocatedBytesForCurrentThread();
            Interlocked.Exchange(ref _startedTimestamp, Stopwatch.GetTimestamp());
            string outcome;
            try
            {
                target.Execute(input);
                outcome = "accepted";
                Interlocked.Increment(ref _accepted);
            }
            catch (Exception error) when (target.IsDocumentedRefusal(error))
            {
                Interlocked.Increment(ref _refusals);
                outcome = Signature(error);
            }
            catch (OutOfMemoryException error)
            {
                Interlocked.Exchange(ref _startedTimestamp, 0);
                AddFinding(FindingKind.ExcessiveAllocation, "oom:" + TopFrame(error), $"OutOfMemoryException: {error.Message}", input);
                Interlocked.Increment(ref _inputs);
                return;
            }
            catch (Exception error)
            {
                Interlocked.Exchange(ref _startedTimestamp, 0);
                AddFinding(FindingKind.UnexpectedException, error.GetType().FullName + ":" + TopFrame(error), error.ToString(), input);
                Interlocked.Increment(ref _inputs);
                return;
            }

            Interlocked.Exchange(ref _startedTimestamp, 0);
            Interlocked.Increment(ref _inputs);
            var allocated = GC.GetAllocatedBytesForCurrentThread() - allocatedBefore;
            var limit = options.AllocationBaseBytes + (options.AllocationBytesPerInputByte * input.Length);
            if (allocated > limit)
                AddFinding(FindingKind.ExcessiveAllocation, "allocation:" + outcome, $"decoding {input.Length} bytes allocated {allocated} bytes, over the limit of {limit}", input);
            if (_corpus.Count < options.MaximumCorpus && _outcomes.Add(outcome))
                _corpus.Add(input);
        }

        private void AddFinding(FindingKind kind, string key, string description, byte[] input)
        {
            lock (_gate)
            {
                if (_findings.ContainsKey(key)) return;
                _findings[key] = new FuzzFinding(kind, description, Save(kind, description, input), input.Length);
            }
        }

        private string? Save(FindingKind kind, string description, byte[] input)
        {
            if (options.FindingsDirectory is null) return null;
            var folder = Path.Combine(options.FindingsDirectory, target.Name);
            Directory.CreateDirectory(folder);
            var name = $"{kind}-{Convert.ToHexStringLower(SHA256.HashData(input))[..16]}";
            var path = Path.Combine(folder, name + ".bin");
            File.WriteAllBytes(path, input);
            File.WriteAllText(Path.Combine(folder, name + ".txt"), $"target {target.Name}\nkind {kind}\nlength {input.Length}\n\n{description}\n", Encoding.UTF8);
            return path;
        }

        /// <summary>The refusal's kind without its numbers, so "offset 12" and "offset 13" count as one behaviour.</summary>
        private static string Signature(Exception error)
        {
            var message = new string([.. error.Message.Where(c => !char.IsAsciiDigit(c))]);
            return error.GetType().Name + ":" + (message.Length > 96 ? message[..96] : message);
        }

        private static string TopFrame(Exception error) =>
            new StackTrace(error, fNeedFileInfo: false).GetFrame(0)?.GetMethod() is { } method ? $"{method.DeclaringType?.FullName}.{method.Name}" : "unknown";
    }
}
