namespace Span.Prune.Tests;

/// <summary>The zero-allocation check every concern's tests share.</summary>
internal static class AllocationAssert
{
    /// <summary>
    /// Warms <paramref name="action"/> up (JIT tiers, lazy statics, first pool rents), then asserts that
    /// <paramref name="repeats"/> further calls allocate nothing on this thread.
    /// </summary>
    /// <remarks>
    /// The measurement is tried up to three times and passes if one window is clean: a one-off runtime event on the
    /// test thread (a tier-up or an OSR transition while the rest of the suite loads the machine) can land in a window
    /// once, but a call that allocates does so in every window, so the assertion still fails for it.
    /// </remarks>
    public static void None(Action action, int repeats = 10)
    {
        action();
        action();
        long allocated = 0;
        for (int attempt = 0; attempt < 3; attempt++)
        {
            long before = GC.GetAllocatedBytesForCurrentThread();
            for (int i = 0; i < repeats; i++) action();
            allocated = GC.GetAllocatedBytesForCurrentThread() - before;
            if (allocated == 0) return;
        }
        Assert.Equal(0, allocated);
    }
}
