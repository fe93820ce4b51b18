namespace EdgeLam.Gateway.Training.Rounds;

/// <summary>What became of an update offered to a running round.</summary>
internal enum UpdateAdmission
{
    Accepted,
    NotStored,
    AlreadyReplied,
    AlreadyFailed,
}

/// <summary>Replies and failures of the running round; each assigned device settles exactly once.</summary>
internal sealed class PendingRound(string strategyName, IFederatedStrategy strategy, RoundContext context, DateTimeOffset deadline,
    IReadOnlyDictionary<string, TrainingInstruction> instructions)
{
    private readonly Lock _gate = new();
    private readonly Dictionary<string, TrainingReply> _replies = new(StringComparer.Ordinal);
    private readonly Dictionary<string, TrainingFailure> _failures = new(StringComparer.Ordinal);
    private readonly Dictionary<string, double> _losses = new(StringComparer.Ordinal);
    private readonly Dictionary<string, int> _awaySince = new(StringComparer.Ordinal);
    private readonly HashSet<string> _mayLackAssignment = new(StringComparer.Ordinal);
    private readonly TaskCompletionSource _allSettled = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private int _absences;
    private long _downlinkBytes;

    public int Round => Context.RoundNumber;
    public string StrategyName { get; } = strategyName;
    public IFederatedStrategy Strategy { get; } = strategy;
    public RoundContext Context { get; } = context;
    public DateTimeOffset Deadline { get; } = deadline;
    public IReadOnlyDictionary<string, TrainingInstruction> Instructions { get; } = instructions;
    public Task AllSettled => Instructions.Count == 0 ? Task.CompletedTask : _allSettled.Task;
    public long DownlinkBytes => Interlocked.Read(ref _downlinkBytes);

    public IReadOnlyList<TrainingReply> Replies { get { lock (_gate) return _replies.Values.OrderBy(r => r.DeviceId, StringComparer.Ordinal).ToArray(); } }
    public IReadOnlyList<TrainingFailure> Failures { get { lock (_gate) return _failures.Values.OrderBy(f => f.DeviceId, StringComparer.Ordinal).ToArray(); } }
    public IReadOnlyDictionary<string, double> Losses { get { lock (_gate) return new Dictionary<string, double>(_losses, StringComparer.Ordinal); } }

    public void AddDownlink(long bytes) => Interlocked.Add(ref _downlinkBytes, bytes);

    /// <summary>
    /// Takes a device's first update: <paramref name="store"/> persists it under the round's lock, so an update is
    /// never counted as accepted unless it is on disk, and the round cannot close between the two.
    /// </summary>
    public UpdateAdmission TryAccept(TrainingReply reply, double loss, Func<bool> store, out string? earlierFailure)
    {
        lock (_gate)
        {
            earlierFailure = _failures.TryGetValue(reply.DeviceId, out var failure) ? failure.Reason : null;
            if (earlierFailure is not null) return UpdateAdmission.AlreadyFailed;
            if (_replies.ContainsKey(reply.DeviceId)) return UpdateAdmission.AlreadyReplied;
            if (!store()) return UpdateAdmission.NotStored;
            Restore(reply, loss);
            return UpdateAdmission.Accepted;
        }
    }

    /// <summary>An update accepted before a restart, read back from the store.</summary>
    public void Restore(TrainingReply reply, double loss)
    {
        lock (_gate)
        {
            _replies[reply.DeviceId] = reply;
            _losses[reply.DeviceId] = loss;
            _awaySince.Remove(reply.DeviceId);
            CheckAllSettled();
        }
    }

    public bool IsUnsettled(string deviceId)
    {
        lock (_gate) return Instructions.ContainsKey(deviceId) && !IsSettled(deviceId);
    }

    /// <summary>Notes that an assigned, unsettled device left; returns the absence number to check later, or null.</summary>
    public int? MarkAway(string deviceId)
    {
        lock (_gate)
        {
            if (!Instructions.ContainsKey(deviceId) || IsSettled(deviceId)) return null;
            var absence = ++_absences;
            _awaySince[deviceId] = absence;
            _mayLackAssignment.Add(deviceId);
            return absence;
        }
    }

    /// <summary>
    /// Notes that the device may not hold its assignment: the send failed, or the gateway restarted and cannot know
    /// what reached it. Such a device, and one that was away, is sent its assignment again when it comes back.
    /// </summary>
    public void MarkMayLackAssignment(string deviceId)
    {
        lock (_gate)
            if (Instructions.ContainsKey(deviceId) && !IsSettled(deviceId)) _mayLackAssignment.Add(deviceId);
    }

    /// <summary>
    /// True once for an unsettled device that was away or may have missed its assignment: the caller sends it again.
    /// A device that merely says hello again while it trains is not disturbed.
    /// </summary>
    public bool TakeResend(string deviceId)
    {
        lock (_gate) return _mayLackAssignment.Remove(deviceId) && !IsSettled(deviceId);
    }

    public void MarkBack(string deviceId)
    {
        lock (_gate) _awaySince.Remove(deviceId);
    }

    /// <summary>True when the device is still away since absence number <paramref name="absence"/>.</summary>
    public bool IsStillAway(string deviceId, int absence)
    {
        lock (_gate) return _awaySince.TryGetValue(deviceId, out var current) && current == absence;
    }

    public void Fail(string deviceId, string reason)
    {
        lock (_gate)
        {
            if (!Instructions.ContainsKey(deviceId) || IsSettled(deviceId)) return;
            _failures[deviceId] = new TrainingFailure(deviceId, reason);
            CheckAllSettled();
        }
    }

    public void FailRemaining(string reason)
    {
        lock (_gate)
        {
            foreach (var deviceId in Instructions.Keys)
                if (!IsSettled(deviceId)) _failures[deviceId] = new TrainingFailure(deviceId, reason);
            CheckAllSettled();
        }
    }

    private bool IsSettled(string deviceId) => _replies.ContainsKey(deviceId) || _failures.ContainsKey(deviceId);

    private void CheckAllSettled()
    {
        if (_replies.Count + _failures.Count >= Instructions.Count) _allSettled.TrySetResult();
    }
}
