namespace Span.Prune.Lab.Demo;

/// <summary>One experiment of the demo: it reads the shared <see cref="DemoContext"/> (data, trained dense networks,
/// statistics) and yields one <see cref="DemoRow"/> per measured point.</summary>
public interface IDemoExperiment
{
    /// <summary>The experiment's kind (the <c>experiment</c> field of its rows).</summary>
    DemoExperiment Kind { get; }

    /// <summary>Whether the experiment applies to the run (e.g. cnn-only experiments in an mlp-only run).</summary>
    /// <param name="context">The run.</param>
    /// <returns>True to run it.</returns>
    bool AppliesTo(DemoContext context);

    /// <summary>Runs the experiment.</summary>
    /// <param name="context">The run: data, options, trained networks.</param>
    /// <returns>The measured points, in order.</returns>
    IEnumerable<DemoRow> Run(DemoContext context);
}
