using System.Diagnostics;
using System.Runtime.ExceptionServices;

namespace Span.Prune.Lab.Training.Kernels;

/// <summary>One phase of a training step, cut into chunks that any thread of a <see cref="WorkerTeam"/> may run.</summary>
/// <remarks>A chunk must write only what no other chunk of the phase reads or writes, so that the result does not
/// depend on which thread runs it, or when.</remarks>
internal abstract class TeamPhase
{
    /// <summary>Runs chunk <paramref name="chunk"/>.</summary>
    public abstract void Run(int chunk);
}

/// <summary>
/// The calling thread plus persistent helper threads running the phases of a training step (fork, then join), for the
/// fused MLP step (<see cref="MlpNetwork"/>).
/// </summary>
/// <remarks>
/// <para>Why not the core's thread-pool split: a step of the MLP at batch 64 is about 0.6 ms and has five phases, each
/// a few tens of microseconds of GEMM. Queueing a thread-pool item and waking a worker per GEMM costs a visible share of
/// that, and the serial glue between the GEMMs (gather, transposes, bias, ReLU, the optimiser) ran on one thread. Here
/// the helpers spin briefly between phases (a phase follows the previous one within microseconds), then sleep, so an idle
/// team costs nothing.</para>
/// <para>Scheduling: the chunks of a phase are claimed one at a time by whichever thread is free (a compare-and-swap on
/// one word that packs the phase's generation, its chunk count and the next chunk), so a helper that a busy machine
/// deschedules costs nothing: the caller runs its chunks. The generation in the word makes a late helper's claim on a
/// finished phase fail instead of running a chunk of the next one.</para>
/// <para>Teams are pooled per thread count and rented for a whole training run; when all are busy (several networks
/// training at once), <see cref="Rent"/> returns null and the caller runs every chunk itself. Results never depend on the
/// team: every chunk is the same code whichever thread runs it.</para>
/// </remarks>
internal sealed class WorkerTeam
{
    private const int PoolSize = 4;
    private static readonly WorkerTeam?[] s_free = new WorkerTeam?[PoolSize];
    private static int s_created;

    /// <summary>How long a helper spins for the next phase before it sleeps.</summary>
    private static readonly long SpinTicks = Stopwatch.Frequency / 5_000; // 200 µs

    private readonly Helper[] _helpers;
    private TeamPhase? _phase;
    private long _state;      // generation << 32 | chunks << 16 | next chunk
    private int _unfinished;  // chunks of the current phase not yet completed
    private Exception? _error;

    /// <summary>A team outside the pool (tests); <see cref="Rent"/> is the way in otherwise.</summary>
    internal WorkerTeam(int threads)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(threads, 2);
        Threads = threads;
        _helpers = new Helper[threads - 1];
        for (int i = 0; i < _helpers.Length; i++) _helpers[i] = new Helper(this, i);
    }

    /// <summary>Threads of the team, the caller included.</summary>
    public int Threads { get; }

    /// <summary>A free team of <paramref name="threads"/> threads (2 or more), or null when none is free and no more may be created.</summary>
    public static WorkerTeam? Rent(int threads)
    {
        if (threads < 2) return null;
        WorkerTeam?[] free = s_free;
        for (int i = 0; i < free.Length; i++)
        {
            WorkerTeam? team = Volatile.Read(ref free[i]);
            if (team is not null && team.Threads == threads && Interlocked.CompareExchange(ref free[i], null, team) == team) return team;
        }
        if (Interlocked.Increment(ref s_created) > PoolSize)
        {
            Interlocked.Decrement(ref s_created);
            return null;
        }
        return new WorkerTeam(threads);
    }

    /// <summary>Gives the team back (its helpers go to sleep after their spin).</summary>
    public void Return()
    {
        WorkerTeam?[] free = s_free;
        for (int i = 0; i < free.Length; i++)
            if (Interlocked.CompareExchange(ref free[i], this, null) is null) return;
    }

    /// <summary>Runs chunks 0…<paramref name="chunks"/>−1 of <paramref name="phase"/> on the team and returns when all are done.</summary>
    /// <exception cref="Exception">The first exception a chunk threw.</exception>
    public void Run(TeamPhase phase, int chunks)
    {
        if (chunks <= 0) return;
        if (chunks >= 1 << 16) throw new ArgumentOutOfRangeException(nameof(chunks));
        _phase = phase;
        _error = null;
        Volatile.Write(ref _unfinished, chunks);
        long generation = (Volatile.Read(ref _state) >>> 32) + 1 & 0xFFFF_FFFF;
        Interlocked.Exchange(ref _state, generation << 32 | (long)chunks << 16);
        foreach (var helper in _helpers) helper.Wake();
        Work(generation);
        var spin = new SpinWait();
        while (Volatile.Read(ref _unfinished) != 0) spin.SpinOnce(sleep1Threshold: -1);
        Exception? error = _error;
        if (error is not null) ExceptionDispatchInfo.Throw(error);
    }

    /// <summary>Claims and runs chunks of phase <paramref name="generation"/> until none is left.</summary>
    private void Work(long generation)
    {
        while (true)
        {
            long state = Volatile.Read(ref _state);
            int next = (int)(state & 0xFFFF), chunks = (int)(state >>> 16 & 0xFFFF);
            if (state >>> 32 != generation || next >= chunks) return;
            if (Interlocked.CompareExchange(ref _state, state + 1, state) != state) continue;
            // The claim succeeded, so the phase is still the current one and _phase is its phase.
            try
            {
                _phase!.Run(next);
            }
            catch (Exception e)
            {
                Interlocked.CompareExchange(ref _error, e, null);
            }
            Interlocked.Decrement(ref _unfinished);
        }
    }

    private long Generation => Volatile.Read(ref _state) >>> 32;

    /// <summary>A helper thread: waits for a new generation, spinning first, then sleeping.</summary>
    private sealed class Helper
    {
        private readonly WorkerTeam _team;
        private readonly SemaphoreSlim _wake = new(0);
        private int _sleeping;

        public Helper(WorkerTeam team, int index)
        {
            _team = team;
            var thread = new Thread(Loop) { IsBackground = true, Name = $"Span.Prune training helper {index + 1}" };
            thread.Start();
        }

        public void Wake()
        {
            if (Interlocked.Exchange(ref _sleeping, 0) == 1) _wake.Release();
        }

        private void Loop()
        {
            long seen = _team.Generation;
            while (true)
            {
                long generation = WaitForNext(seen);
                _team.Work(generation);
                seen = generation;
            }
        }

        private long WaitForNext(long seen)
        {
            long deadline = Stopwatch.GetTimestamp() + SpinTicks;
            var spin = new SpinWait();
            while (true)
            {
                long generation = _team.Generation;
                if (generation != seen) return generation;
                if (Stopwatch.GetTimestamp() < deadline)
                {
                    // Yields now and then: on a busy machine the caller may be waiting for this core.
                    spin.SpinOnce(sleep1Threshold: -1);
                    continue;
                }
                // Announce the sleep, then look once more: a phase published before the announcement is seen here, one
                // published after it finds the flag and releases the semaphore (a stale release only causes one extra
                // look).
                Volatile.Write(ref _sleeping, 1);
                Interlocked.MemoryBarrier();
                if (_team.Generation == seen) _wake.Wait();
                Interlocked.Exchange(ref _sleeping, 0);
                deadline = Stopwatch.GetTimestamp() + SpinTicks;
                spin.Reset();
            }
        }
    }
}
