using CsCheck;

namespace Span.Prune.Tests.Properties;

using Masking = Span.Prune.Masking;
using Selection = Span.Prune.Selection;

/// <summary>Properties of masking: applying is idempotent, and a unit mask equals its expanded element mask.</summary>
public class MaskingProperties
{
    [Fact]
    public void Apply_Twice_EqualsOnce() =>
        (from n in Gen.Int[0, 600]
         from w in PropertyGens.Weights(n)
         from mask in Gen.Frequency((3, Gen.Const((byte)0)), (3, Gen.Const((byte)1)), (1, Gen.Byte)).Array[n]
         select (w, mask))
        .Sample((w, mask) =>
        {
            float[] once = (float[])w.Clone();
            Masking.Apply(once, mask);
            float[] twice = (float[])once.Clone();
            Masking.Apply(twice, mask);
            Assert.Equal(once, twice); // bit for bit: pruned entries are +0 both times
            for (int i = 0; i < w.Length; i++)
            {
                if (mask[i] == 0) Assert.Equal(0, BitConverter.SingleToInt32Bits(once[i])); // exactly +0
                else Assert.Equal(BitConverter.SingleToInt32Bits(w[i]), BitConverter.SingleToInt32Bits(once[i]));
            }
        }, iter: PropertyGens.Iterations);

    /// <summary>A conv or linear shape with small dimensions and a granularity that tiles it (every kind).</summary>
    private static readonly Gen<(WeightShape Shape, Granularity Granularity)> ShapeAndGranularity =
        from o in Gen.Int[1, 16]
        from i in Gen.Int[1, 16]
        from kh in Gen.Int[1, 3]
        from kw in Gen.Int[1, 3]
        from conv in Gen.Bool
        let shape = conv ? WeightShape.Conv2D(o, i, kh, kw) : WeightShape.Linear(o, i)
        from kind in Gen.Int[0, 5]
        from granularity in (GranularityKind)kind switch
        {
            GranularityKind.Element => Gen.Const(Granularity.Element),
            GranularityKind.Row => Gen.Const(Granularity.Row),
            GranularityKind.Column => Gen.Const(Granularity.Column),
            GranularityKind.Kernel => Gen.Const(Granularity.Kernel),
            GranularityKind.Block =>
                from r in Gen.OneOf(PropertyGens.Divisors(shape.Out, 8))
                from c in Gen.OneOf(PropertyGens.Divisors(shape.RowLength, 8))
                select Granularity.Block(r, c),
            _ =>
                from m in Gen.OneOf(PropertyGens.Divisors(shape.RowLength, 8))
                from n in Gen.Int[0, m]
                select Granularity.NM(n, m),
        }
        select (shape, granularity);

    [Fact]
    public void ApplyUnitMask_EqualsExpandThenApply_ForEveryGranularity() =>
        (from sg in ShapeAndGranularity
         from w in PropertyGens.Weights(sg.Shape.ElementCount)
         from unitMask in Gen.Frequency((2, Gen.Const((byte)0)), (2, Gen.Const((byte)1)), (1, Gen.Byte)).Array[sg.Granularity.UnitCount(sg.Shape)]
         select (sg.Shape, sg.Granularity, w, unitMask))
        .Sample((shape, granularity, w, unitMask) =>
        {
            float[] direct = (float[])w.Clone();
            Masking.ApplyUnitMask(direct, unitMask, shape, granularity);

            byte[] elementMask = new byte[shape.ElementCount];
            Masking.ExpandUnitMask(unitMask, shape, granularity, elementMask);
            float[] expanded = (float[])w.Clone();
            Masking.Apply(expanded, elementMask);

            Assert.Equal(expanded, direct);
            // Idempotent as well.
            float[] again = (float[])direct.Clone();
            Masking.ApplyUnitMask(again, unitMask, shape, granularity);
            Assert.Equal(direct, again);
            // Each unit keeps its kept count: the expanded mask keeps UnitSize elements per kept unit.
            int keptUnits = unitMask.Count(b => b != 0);
            Assert.Equal(keptUnits * granularity.UnitSize(shape), Masking.CountKept(elementMask));
        }, iter: PropertyGens.Iterations);
}
