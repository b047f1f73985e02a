using System.Diagnostics;
using System.Globalization;

namespace Span.Prune.Cli.Commands;

/// <summary>
/// Progress of long work on stderr (issue 10): one line, rewritten in place, with the phase, the tensors and bytes
/// done, the rate and the time left, e.g. <c>sprune: writing 12/291 tensors, 1.24/13.48 GB, 812 MB/s, ETA 15 s</c>.
/// </summary>
/// <remarks>
/// <para><b>When.</b> Only when stderr is a terminal (a log file or a pipe gets the usual single summary line, so
/// scripts and the exit codes see nothing new) and not <c>--quiet</c>; and only once the work has run for
/// <see cref="DefaultDelay"/>: a model that prunes in less than about a second shows nothing.</para>
/// <para><b>How.</b> Workers only add to counters (<see cref="Interlocked"/>: the global scope scans two tensors at a
/// time); a timer prints every <see cref="DefaultInterval"/>, so a fast chunk loop never waits on the console. Tensors
/// done are the tensor boundaries (cumulative byte lengths in the order the phase visits them) that the byte count has
/// passed. <see cref="Dispose"/> stops the timer, waits for a print in flight and erases the line, so the summary that
/// follows starts on a clean line.</para>
/// </remarks>
internal sealed class ProgressMeter : IDisposable
{
    public static readonly TimeSpan DefaultDelay = TimeSpan.FromSeconds(1);
    public static readonly TimeSpan DefaultInterval = TimeSpan.FromMilliseconds(250);

    private readonly TextWriter _output;
    private readonly TimeSpan _delay;
    private readonly Func<TimeSpan> _clock;
    private readonly Timer? _timer;
    private readonly Lock _lock = new();
    private string _phase = "";
    private long[] _ends = [];
    private long _done;
    private TimeSpan _phaseStart;
    private int _lineLength;
    private bool _disposed;

    /// <summary>A meter that prints to <paramref name="output"/> from a timer.</summary>
    /// <param name="output">Where the line goes (stderr).</param>
    /// <param name="delay">Nothing is printed before this much time has passed since construction.</param>
    /// <param name="interval">Time between two prints; <see cref="Timeout.InfiniteTimeSpan"/> for no timer (tests call <see cref="Print"/>).</param>
    /// <param name="clock">Elapsed time since construction; default a <see cref="Stopwatch"/> (tests pass their own).</param>
    internal ProgressMeter(TextWriter output, TimeSpan delay, TimeSpan interval, Func<TimeSpan>? clock = null)
    {
        _output = output;
        _delay = delay;
        long start = Stopwatch.GetTimestamp();
        _clock = clock ?? (() => Stopwatch.GetElapsedTime(start));
        if (interval != Timeout.InfiniteTimeSpan) _timer = new Timer(_ => Print(), null, interval, interval);
    }

    /// <summary>The hidden <c>--progress-delay SECONDS</c> option (a test hook: 0 shows the line at once).</summary>
    public static System.CommandLine.Option<double> DelayOption() => new("--progress-delay")
    {
        Description = "Test hook: seconds before the progress line appears.", DefaultValueFactory = _ => DefaultDelay.TotalSeconds, Hidden = true,
    };

    /// <summary>A meter on stderr that starts printing after <paramref name="delay"/>, or null when stderr is not a
    /// terminal or <paramref name="delay"/> is null (<c>--quiet</c>).</summary>
    public static ProgressMeter? ForStandardError(TimeSpan? delay) =>
        delay is not { } d || Console.IsErrorRedirected ? null : new ProgressMeter(Console.Error, d, DefaultInterval);

    /// <summary>Starts a phase: <paramref name="verb"/> (e.g. "scanning", "writing") over tensors of these byte lengths.</summary>
    public void Begin(string verb, IEnumerable<long> tensorBytes)
    {
        var ends = new List<long>();
        long total = 0;
        foreach (long b in tensorBytes) ends.Add(total += b);
        lock (_lock)
        {
            _phase = verb;
            _ends = [.. ends];
            Interlocked.Exchange(ref _done, 0);
            _phaseStart = _clock();
        }
        Print(); // a phase that starts after the delay shows at once, not a timer tick later
    }

    /// <summary>Counts <paramref name="bytes"/> more bytes done in the current phase (any thread).</summary>
    public void Add(long bytes) => Interlocked.Add(ref _done, bytes);

    /// <summary>A write-only stream that counts what passes through it into the current phase.</summary>
    public Stream Count(Stream destination) => new CountingStream(destination, this);

    /// <summary>Prints the line now if the delay has passed (the timer's callback).</summary>
    internal void Print()
    {
        lock (_lock)
        {
            if (_disposed || _ends.Length == 0) return;
            TimeSpan now = _clock();
            if (now < _delay) return;
            string line = Line(_phase, _ends, Interlocked.Read(ref _done), now - _phaseStart);
            // Pad over the previous line's tail: the line is rewritten in place with a carriage return.
            _output.Write("\r" + line.PadRight(_lineLength));
            _output.Flush();
            _lineLength = line.Length;
        }
    }

    /// <summary>The progress line for <paramref name="done"/> bytes of the tensors ending at <paramref name="ends"/>.</summary>
    internal static string Line(string phase, long[] ends, long done, TimeSpan elapsed)
    {
        long total = ends[^1];
        done = Math.Min(done, total);
        int index = Array.BinarySearch(ends, done);
        int tensors = index >= 0 ? index + 1 : ~index; // boundaries at or below done
        double seconds = elapsed.TotalSeconds, rate = seconds > 0 ? done / seconds : 0;
        string eta = rate > 0 && done < total ? string.Create(CultureInfo.InvariantCulture, $", ETA {(total - done) / rate:0} s") : "";
        return string.Create(CultureInfo.InvariantCulture,
            $"sprune: {phase} {tensors}/{ends.Length} tensors, {Bytes(done, total)}, {rate / 1e6:0} MB/s{eta}");
    }

    /// <summary>"1.24/13.48 GB", in the unit of the total.</summary>
    private static string Bytes(long done, long total)
    {
        (double scale, string unit) = total >= 1e9 ? (1e9, "GB") : total >= 1e6 ? (1e6, "MB") : (1e3, "kB");
        return string.Create(CultureInfo.InvariantCulture, $"{done / scale:0.00}/{total / scale:0.00} {unit}");
    }

    /// <summary>Stops printing and erases the line (if one was printed).</summary>
    public void Dispose()
    {
        if (_timer is not null)
        {
            using var stopped = new ManualResetEvent(false);
            if (_timer.Dispose(stopped)) stopped.WaitOne(); // a print in flight finishes first
        }
        lock (_lock)
        {
            if (_disposed) return;
            _disposed = true;
            if (_lineLength > 0)
            {
                _output.Write("\r" + new string(' ', _lineLength) + "\r");
                _output.Flush();
            }
        }
    }

    private sealed class CountingStream(Stream inner, ProgressMeter meter) : Stream
    {
        public override bool CanRead => false;
        public override bool CanSeek => false;
        public override bool CanWrite => true;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }
        public override void Flush() => inner.Flush();
        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count) => Write(buffer.AsSpan(offset, count));

        public override void Write(ReadOnlySpan<byte> buffer)
        {
            inner.Write(buffer);
            meter.Add(buffer.Length);
        }

        public override void WriteByte(byte value)
        {
            inner.WriteByte(value);
            meter.Add(1);
        }
    }
}
