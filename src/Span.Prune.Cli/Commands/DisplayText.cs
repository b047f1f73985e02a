using System.Globalization;
using System.Text;

namespace Span.Prune.Cli.Commands;

/// <summary>
/// Text from a file or the command line (tensor names, paths, messages that quote them) made safe to print: every
/// line sprune writes to the terminal, and every cell of <c>inspect</c>'s table, goes through <see cref="Escape"/>.
/// </summary>
/// <remarks>
/// A tensor name is any string a file's author chose. Printed raw, a newline would split the one error line a script
/// reads, an ESC sequence would drive the user's terminal (move the cursor, retitle the window, rewrite what is shown),
/// a bidirectional override would display the text in another order than it is, and a <c>|</c> would add a column to
/// the markdown table. Escaped: <c>\n</c>, <c>\r</c>, <c>\t</c>, <c>\|</c>, and <c>\uXXXX</c> for every other control
/// character (C0, DEL, C1; ESC is <c>\u001B</c>), format character (bidirectional controls, zero-width characters; <c>\UXXXXXXXX</c> beyond the BMP),
/// line or paragraph separator and unpaired surrogate. A backslash stays as it is (Windows paths stay readable), so
/// the escaping is for display, not reversible.
/// </remarks>
internal static class DisplayText
{
    public static string Escape(string text)
    {
        int first = 0;
        while (first < text.Length && !NeedsEscape(text, first)) first += char.IsSurrogatePair(text, first) ? 2 : 1;
        if (first == text.Length) return text;

        var sb = new StringBuilder(text.Length + 16).Append(text, 0, first);
        for (int i = first; i < text.Length; i++)
        {
            char c = text[i];
            if (char.IsSurrogatePair(text, i))
            {
                if (NeedsEscape(text, i)) sb.Append("\\U").Append(char.ConvertToUtf32(c, text[i + 1]).ToString("X8", CultureInfo.InvariantCulture));
                else sb.Append(c).Append(text[i + 1]);
                i++;
                continue;
            }
            switch (c)
            {
                case '\n': sb.Append("\\n"); break;
                case '\r': sb.Append("\\r"); break;
                case '\t': sb.Append("\\t"); break;
                case '|': sb.Append("\\|"); break;
                default:
                    if (NeedsEscape(text, i)) sb.Append("\\u").Append(((int)c).ToString("X4", CultureInfo.InvariantCulture));
                    else sb.Append(c);
                    break;
            }
        }
        return sb.ToString();
    }

    /// <summary>Whether the character (or surrogate pair) at <paramref name="i"/> is printed escaped.</summary>
    private static bool NeedsEscape(string text, int i)
    {
        char c = text[i];
        if (c == '|') return true;
        if (c is >= ' ' and < '\u007F') return false; // printable ASCII: the common case
        if (char.IsSurrogatePair(text, i)) return CharUnicodeInfo.GetUnicodeCategory(char.ConvertToUtf32(c, text[i + 1])) == UnicodeCategory.Format;
        return CharUnicodeInfo.GetUnicodeCategory(c) is UnicodeCategory.Control or UnicodeCategory.Format
            or UnicodeCategory.LineSeparator or UnicodeCategory.ParagraphSeparator or UnicodeCategory.Surrogate;
    }
}
