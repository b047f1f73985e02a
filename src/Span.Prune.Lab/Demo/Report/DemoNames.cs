namespace Span.Prune.Lab.Demo;

/// <summary>The names the report writers use for the enum-valued fields of <see cref="DemoRow"/>: lower case, snake case.</summary>
public static class DemoNames
{
    /// <summary><c>mlp</c> or <c>cnn</c>.</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="model"/> is not a defined value.</exception>
    public static string Of(DemoModel model) => model switch
    {
        DemoModel.Mlp => "mlp",
        DemoModel.Cnn => "cnn",
        _ => throw new ArgumentOutOfRangeException(nameof(model), model, "Not a DemoModel value."),
    };

    /// <summary><c>dense</c>, <c>global</c>, <c>layer</c>, <c>neurons</c>, <c>channels</c>, <c>schedule</c> or <c>speed</c>.</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="experiment"/> is not a defined value.</exception>
    public static string Of(DemoExperiment experiment) => experiment switch
    {
        DemoExperiment.Dense => "dense",
        DemoExperiment.Global => "global",
        DemoExperiment.Layer => "layer",
        DemoExperiment.Neurons => "neurons",
        DemoExperiment.Channels => "channels",
        DemoExperiment.Schedule => "schedule",
        DemoExperiment.Speed => "speed",
        _ => throw new ArgumentOutOfRangeException(nameof(experiment), experiment, "Not a DemoExperiment value."),
    };

    /// <summary><c>one_shot</c>, <c>iterative</c> or <c>agp</c>.</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="schedule"/> is not a defined value.</exception>
    public static string Of(DemoSchedule schedule) => schedule switch
    {
        DemoSchedule.OneShot => "one_shot",
        DemoSchedule.Iterative => "iterative",
        DemoSchedule.Agp => "agp",
        _ => throw new ArgumentOutOfRangeException(nameof(schedule), schedule, "Not a DemoSchedule value."),
    };
}
