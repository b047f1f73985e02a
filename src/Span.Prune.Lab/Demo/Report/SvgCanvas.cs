using System.Globalization;
using System.Text;
using System.Xml;

namespace Span.Prune.Lab.Demo;

/// <summary>
/// A thin layer over <see cref="XmlWriter"/> that writes SVG elements with culture-free numbers. XmlWriter does
/// the escaping, so names from rows (criteria, formats) can hold any text.
/// </summary>
internal sealed class SvgCanvas
{
    private const string SvgNamespace = "http://www.w3.org/2000/svg";

    private readonly StringBuilder _text = new();
    private readonly XmlWriter _writer;

    public SvgCanvas(double width, double height, string title)
    {
        _writer = XmlWriter.Create(_text, new XmlWriterSettings
        {
            Indent = true,
            IndentChars = "  ",
            NewLineChars = "\n",
            // A string has no encoding of its own; the caller writes it as UTF-8, which needs no declaration.
            OmitXmlDeclaration = true,
        });
        _writer.WriteStartElement("svg", SvgNamespace);
        Attr("width", width).Attr("height", height).Attr("viewBox", $"0 0 {Number(width)} {Number(height)}");
        Attr("font-family", "DejaVu Sans, Arial, Helvetica, sans-serif").Attr("font-size", 11);
        _writer.WriteElementString("title", SvgNamespace, title);
        Start("rect").Attr("width", width).Attr("height", height).Attr("fill", "#ffffff").End();
    }

    /// <summary>Coordinates with at most 2 decimals, invariant, never "-0".</summary>
    public static string Number(double value)
    {
        double rounded = Math.Round(value, 2);
        return (rounded == 0 ? 0 : rounded).ToString("0.##", CultureInfo.InvariantCulture);
    }

    /// <summary>A data value exactly as given (shortest round-trip text), for tests and tools that read the plot back.</summary>
    public static string Exact(double value) => value.ToString("R", CultureInfo.InvariantCulture);

    public SvgCanvas Start(string element)
    {
        _writer.WriteStartElement(element, SvgNamespace);
        return this;
    }

    public SvgCanvas Attr(string name, string value)
    {
        _writer.WriteAttributeString(name, value);
        return this;
    }

    public SvgCanvas Attr(string name, double value) => Attr(name, Number(value));

    public void End() => _writer.WriteEndElement();

    public void Line(double x1, double y1, double x2, double y2, string stroke, double width = 1, string? dash = null, string? cssClass = null)
    {
        Start("line");
        if (cssClass is not null) Attr("class", cssClass);
        Attr("x1", x1).Attr("y1", y1).Attr("x2", x2).Attr("y2", y2).Attr("stroke", stroke).Attr("stroke-width", width);
        if (dash is not null) Attr("stroke-dasharray", dash);
        End();
    }

    public void Text(double x, double y, string text, string anchor = "start", double? size = null, string? cssClass = null, double? rotate = null, string? weight = null)
    {
        Start("text");
        if (cssClass is not null) Attr("class", cssClass);
        Attr("x", x).Attr("y", y).Attr("text-anchor", anchor).Attr("fill", PlotPalette.Axis);
        if (size is double s) Attr("font-size", s);
        if (weight is not null) Attr("font-weight", weight);
        if (rotate is double r) Attr("transform", $"rotate({Number(r)} {Number(x)} {Number(y)})");
        _writer.WriteString(text);
        End();
    }

    public void Polyline(IReadOnlyList<(double X, double Y)> points, string stroke, double width, string? dash = null, string? cssClass = null)
    {
        var coordinates = new StringBuilder();
        foreach (var (x, y) in points)
        {
            if (coordinates.Length > 0) coordinates.Append(' ');
            coordinates.Append(Number(x)).Append(',').Append(Number(y));
        }

        Start("polyline");
        if (cssClass is not null) Attr("class", cssClass);
        Attr("points", coordinates.ToString()).Attr("fill", "none").Attr("stroke", stroke).Attr("stroke-width", width)
            .Attr("stroke-linejoin", "round");
        if (dash is not null) Attr("stroke-dasharray", dash);
        End();
    }

    /// <summary>
    /// Starts a marker element (left open so the caller can add data attributes): a circle, square, triangle or
    /// diamond of about <paramref name="radius"/> around (x, y); hollow markers are white inside.
    /// </summary>
    public SvgCanvas StartMarker(PlotPalette.Shape shape, double x, double y, double radius, string colour, bool filled, string cssClass)
    {
        switch (shape)
        {
            case PlotPalette.Shape.Circle:
                Start("circle").Attr("cx", x).Attr("cy", y).Attr("r", radius);
                break;
            case PlotPalette.Shape.Square:
                Start("rect").Attr("x", x - radius * 0.9).Attr("y", y - radius * 0.9).Attr("width", radius * 1.8).Attr("height", radius * 1.8);
                break;
            case PlotPalette.Shape.Triangle:
                Start("polygon").Attr("points",
                    $"{Number(x)},{Number(y - radius * 1.2)} {Number(x + radius * 1.1)},{Number(y + radius * 0.8)} {Number(x - radius * 1.1)},{Number(y + radius * 0.8)}");
                break;
            default:
                Start("polygon").Attr("points",
                    $"{Number(x)},{Number(y - radius * 1.3)} {Number(x + radius * 1.1)},{Number(y)} {Number(x)},{Number(y + radius * 1.3)} {Number(x - radius * 1.1)},{Number(y)}");
                break;
        }

        return Attr("class", cssClass).Attr("fill", filled ? colour : "#ffffff").Attr("stroke", colour).Attr("stroke-width", 1.5);
    }

    /// <summary>Closes the document and returns its text.</summary>
    public string Finish()
    {
        _writer.WriteEndElement();
        _writer.Flush();
        _writer.Dispose();
        return _text.Append('\n').ToString();
    }
}
