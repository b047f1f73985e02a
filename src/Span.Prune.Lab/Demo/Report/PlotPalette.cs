namespace Span.Prune.Lab.Demo;

/// <summary>
/// The plots' fixed, colour-blind-safe colours: the Okabe–Ito palette (Okabe &amp; Ito 2008, "Color Universal
/// Design"), reordered so the first series get the colours with the most contrast on white; yellow comes last.
/// Past eight series the colours repeat with the next marker shape, so every series still differs.
/// </summary>
internal static class PlotPalette
{
    public static readonly string[] Colours =
    [
        "#0072B2", // blue
        "#D55E00", // vermillion
        "#009E73", // bluish green
        "#CC79A7", // reddish purple
        "#E69F00", // orange
        "#56B4E9", // sky blue
        "#000000", // black
        "#F0E442", // yellow
    ];

    public enum Shape
    {
        Circle,
        Square,
        Triangle,
        Diamond,
    }

    public static string Colour(int seriesIndex) => Colours[seriesIndex % Colours.Length];

    public static Shape MarkerShape(int seriesIndex) => (Shape)(seriesIndex / Colours.Length % 4);

    /// <summary>Neutral colours for axes, grid, reference lines and the Pareto front.</summary>
    public const string Axis = "#333333";

    public const string Grid = "#e3e3e3";

    public const string Reference = "#777777";
}
