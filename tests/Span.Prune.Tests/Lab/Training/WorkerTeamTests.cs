using Span.Prune.Lab.Training.Kernels;

namespace Span.Prune.Tests.Lab.Training;

/// <summary>The training step's fork-join team: every chunk of every phase runs exactly once, and errors reach the caller.</summary>
public class WorkerTeamTests
{
    private sealed class CountingPhase(int chunks) : TeamPhase
    {
        public readonly int[] Runs = new int[chunks];

        public override void Run(int chunk) => Interlocked.Increment(ref Runs[chunk]);
    }

    private sealed class ThrowingPhase : TeamPhase
    {
        public override void Run(int chunk)
        {
            if (chunk == 2) throw new InvalidOperationException("chunk 2");
        }
    }

    [Theory]
    [InlineData(2)]
    [InlineData(3)]
    public void Run_RunsEveryChunkOncePerPhase_OverManyPhases(int threads)
    {
        var team = new WorkerTeam(threads); // not the pool's: other tests may hold its teams
        for (int phase = 0; phase < 2000; phase++)
        {
            int chunks = 1 + phase % 7;
            var counting = new CountingPhase(chunks);
            team.Run(counting, chunks);
            Assert.All(counting.Runs, n => Assert.Equal(1, n)); // all done when Run returns, none twice
        }
    }

    [Fact]
    public void Run_RethrowsAChunksException_AndStaysUsable()
    {
        var team = new WorkerTeam(2);
        var error = Assert.Throws<InvalidOperationException>(() => team.Run(new ThrowingPhase(), 4));
        Assert.Equal("chunk 2", error.Message);
        var counting = new CountingPhase(5);
        team.Run(counting, 5);
        Assert.All(counting.Runs, n => Assert.Equal(1, n));
    }

    [Fact]
    public void Rent_OneThread_IsNoTeam()
    {
        Assert.Null(WorkerTeam.Rent(1));
        Assert.Throws<ArgumentOutOfRangeException>(() => new WorkerTeam(1));
    }
}
