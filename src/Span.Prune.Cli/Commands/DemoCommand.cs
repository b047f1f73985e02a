using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using System.Xml.Linq;
using Span.Prune.Lab.Data;
using Span.Prune.Lab.Demo;
using Span.Prune.Lab.Demo.Experiments;

namespace Span.Prune.Cli.Commands;

/// <summary>
/// <c>sprune demo [--quick] [--data DIR] [--model mlp|cnn|all] [--json FILE] [--plot FILE.svg] [--export DIR] [--seed N]</c>:
/// trains the reference networks on real images, prunes them with every criterion, fine-tunes, shrinks and times them
/// (<see cref="DemoRunner"/>), and prints one markdown table per experiment.
/// </summary>
/// <remarks>
/// <para>Outputs: the tables on stdout; <c>--json</c> one object per row (<see cref="DemoJson"/>); <c>--plot</c> one
/// SVG holding both figures (<see cref="DemoSvg.AccuracyVsSparsity"/> above <see cref="DemoSvg.AccuracyVsSpeedup"/>).
/// Both are written through <see cref="OutputFiles"/>: staged, then renamed into place together, never over an input file or each other.
/// Progress (epochs, experiment i of n, elapsed and ETA) goes to stderr only when stderr is a terminal.</para>
/// <para>Test hook: the hidden <c>--subset N</c> keeps N evenly spaced training images and N evenly spaced test images
/// (every class stays present), so that a whole run fits a unit test; it is not part of the command's interface.
/// Measurement hook: the hidden <c>--only EXPERIMENT</c> (dense, global, layer, neurons, channels, schedule, speed) runs
/// that one experiment, e.g. <c>--model mlp --only speed</c> re-times the speed rows in seconds instead of minutes; the
/// hidden <c>--schedule-study N</c> prints <see cref="ScheduleStudy"/>'s table (seeds seed…seed+2, N shuffles each) instead.</para>
/// </remarks>
internal static class DemoCommand
{
    public static Command Create()
    {
        var quick = new Option<bool>("--quick") { Description = "The mlp only, fewer points: under 90 s on 2 cores." };
        var data = new Option<string?>("--data") { Description = "Directory of the four IDX files (train-images-idx3-ubyte[.gz], …); default: the embedded digits.", HelpName = "DIR" };
        var model = new Option<string>("--model") { Description = "mlp | cnn | all.", DefaultValueFactory = _ => "all" };
        var json = new Option<string?>("--json") { Description = "Write every measured point as JSON to this file.", HelpName = "FILE" };
        var plot = new Option<string?>("--plot") { Description = "Write both figures (accuracy vs sparsity, accuracy vs speedup) to this SVG file.", HelpName = "FILE.svg" };
        var export = new Option<string?>("--export") { Description = "Write the trained dense networks and their statistics (safetensors) to this directory.", HelpName = "DIR" };
        var seed = new Option<ulong>("--seed") { Description = "Initialisation and shuffling seed.", DefaultValueFactory = _ => 1UL };
        var subset = new Option<int>("--subset") { Description = "Test hook: N training and N test images.", Hidden = true };
        var only = new Option<string?>("--only") { Description = "Measurement hook: run only this experiment.", Hidden = true };
        var scheduleStudy = new Option<int>("--schedule-study") { Description = "Measurement hook: the validation study behind AGP's ramp, N shuffles per seed.", Hidden = true };
        var command = new Command("demo", "Train the reference networks, prune them with every criterion, fine-tune, shrink and time them.")
        {
            quick, data, model, json, plot, export, seed, subset, only, scheduleStudy,
        };
        command.SetAction(p => Run(p.GetValue(quick), p.GetValue(data), p.GetValue(model)!, p.GetValue(json), p.GetValue(plot),
            p.GetValue(export), p.GetValue(seed), p.GetValue(subset), p.GetValue(only), p.GetValue(scheduleStudy)));
        return command;
    }

    private static int Run(bool quick, string? dataDirectory, string modelName, string? jsonPath, string? plotPath, string? exportDirectory, ulong seed, int subset, string? onlyName, int scheduleStudy)
    {
        DemoModels models = modelName.ToLowerInvariant() switch
        {
            "mlp" => DemoModels.Mlp,
            "cnn" => DemoModels.Cnn,
            "all" => DemoModels.All,
            _ => throw new ArgumentException($"unknown --model '{modelName}'; expected mlp, cnn or all"),
        };
        if (subset < 0) throw new ArgumentException("--subset must not be negative");
        if (scheduleStudy < 0) throw new ArgumentException("--schedule-study must not be negative");
        DemoExperiment? only = null;
        if (onlyName is not null)
        {
            only = Enum.GetValues<DemoExperiment>().Where(e => DemoNames.Of(e) == onlyName.ToLowerInvariant()).Cast<DemoExperiment?>().FirstOrDefault()
                ?? throw new ArgumentException($"unknown --only '{onlyName}'; expected dense, global, layer, neurons, channels, schedule or speed");
        }
        // The data files are inputs; --json and --plot must each be a file of their own (see OutputFiles).
        using var files = new OutputFiles();
        if (dataDirectory is not null)
        {
            if (!Directory.Exists(dataDirectory)) throw new ArgumentException($"--data: directory '{dataDirectory}' does not exist");
            foreach (string input in Directory.EnumerateFiles(dataDirectory)) files.Input(input, "--data file");
        }
        string? json = jsonPath is null ? null : files.Output(jsonPath, "--json");
        string? plot = plotPath is null ? null : files.Output(plotPath, "--plot");

        DigitData data;
        try
        {
            data = dataDirectory is null ? IdxDataset.LoadEmbedded() : IdxDataset.LoadDirectory(dataDirectory);
        }
        catch (IdxFormatException e)
        {
            Console.Error.WriteLine($"sprune: --data: {DisplayText.Escape(e.Message)}");
            return Program.BadInput;
        }
        if (subset > 0) data = new DigitData(Subset(data.Train, subset), Subset(data.Test, subset));

        TextWriter? progress = Console.IsErrorRedirected ? null : new ProgressWriter(Console.Error);
        if (scheduleStudy > 0)
        {
            Console.Out.Write(ScheduleStudy.Run(data.Train, [seed, seed + 1, seed + 2], scheduleStudy, progress: progress).Markdown);
            return Program.Success;
        }
        var options = new DemoOptions(data, models, quick, seed, exportDirectory, only);
        IReadOnlyList<DemoRow> rows = DemoRunner.Run(options, progress);

        Console.Out.Write(DemoMarkdown.Render(rows));
        if (json is not null) files.Stage(json, s => OutputFiles.WriteText(s, DemoJson.ToJson(rows)));
        if (plot is not null) files.Stage(plot, s => OutputFiles.WriteText(s, CombinedSvg(rows)));
        files.Commit();
        return Program.Success;
    }

    /// <summary>Both figures in one SVG document: accuracy against sparsity above accuracy against speedup.</summary>
    internal static string CombinedSvg(IReadOnlyList<DemoRow> rows)
    {
        XNamespace svg = "http://www.w3.org/2000/svg";
        XElement[] figures = [XElement.Parse(DemoSvg.AccuracyVsSparsity(rows)), XElement.Parse(DemoSvg.AccuracyVsSpeedup(rows))];
        double width = 0, height = 0;
        var root = new XElement(svg + "svg");
        foreach (XElement figure in figures)
        {
            double w = double.Parse((string)figure.Attribute("width")!, CultureInfo.InvariantCulture);
            double h = double.Parse((string)figure.Attribute("height")!, CultureInfo.InvariantCulture);
            // A nested <svg> is its own viewport: each figure keeps its coordinates, placed below the previous one.
            figure.SetAttributeValue("y", height.ToString(CultureInfo.InvariantCulture));
            root.Add(figure);
            width = Math.Max(width, w);
            height += h;
        }
        string W = width.ToString(CultureInfo.InvariantCulture), H = height.ToString(CultureInfo.InvariantCulture);
        root.SetAttributeValue("width", W);
        root.SetAttributeValue("height", H);
        root.SetAttributeValue("viewBox", $"0 0 {W} {H}");
        root.AddFirst(new XElement(svg + "title", "sprune demo: accuracy against sparsity, and accuracy against measured speedup"));
        return root.ToString() + "\n";
    }

    private static ImageSet Subset(ImageSet set, int n)
    {
        n = Math.Min(n, set.Count);
        int[] evenlySpaced = new int[n];
        for (int i = 0; i < n; i++) evenlySpaced[i] = (int)((long)i * set.Count / n);
        return set.Select(evenlySpaced);
    }

    /// <summary>
    /// Prefixes progress lines with the elapsed time and adds an estimate of the time left: of the run at each
    /// "experiment i/n" (from the experiments done so far), and of the current experiment at each "… point i/n".
    /// </summary>
    private sealed class ProgressWriter(TextWriter inner) : TextWriter
    {
        private readonly long _start = Stopwatch.GetTimestamp();
        private long _experimentStart = Stopwatch.GetTimestamp();

        public override System.Text.Encoding Encoding => inner.Encoding;

        public override void WriteLine(string? value)
        {
            TimeSpan elapsed = Stopwatch.GetElapsedTime(_start);
            string eta = "";
            if (value is not null && value.StartsWith("experiment ", StringComparison.Ordinal))
            {
                _experimentStart = Stopwatch.GetTimestamp();
                if (Fraction(value, "experiment ", out int i, out int n) && i > 1)
                    eta = string.Create(CultureInfo.InvariantCulture, $", ETA {elapsed.TotalSeconds / (i - 1) * (n - i + 1):0} s (by experiments done)");
            }
            else if (value is not null && Fraction(value, " point ", out int i, out int n) && i > 0)
            {
                double spent = Stopwatch.GetElapsedTime(_experimentStart).TotalSeconds;
                eta = string.Create(CultureInfo.InvariantCulture, $", experiment ETA {spent / i * (n - i):0} s");
            }
            inner.WriteLine(string.Create(CultureInfo.InvariantCulture, $"[{elapsed.TotalSeconds,6:0.0} s] {value}{eta}"));
        }

        public override void Write(char value) => inner.Write(value);

        /// <summary>Reads "i/n" right after <paramref name="marker"/>.</summary>
        private static bool Fraction(string line, string marker, out int i, out int n)
        {
            i = n = 0;
            int at = line.IndexOf(marker, StringComparison.Ordinal);
            if (at < 0) return false;
            string rest = line[(at + marker.Length)..];
            int end = rest.IndexOfAny([':', ' ', ',']);
            string[] parts = (end < 0 ? rest : rest[..end]).Split('/');
            return parts.Length == 2 && int.TryParse(parts[0], CultureInfo.InvariantCulture, out i) && int.TryParse(parts[1], CultureInfo.InvariantCulture, out n);
        }
    }
}
