namespace Span.Prune.Lab.Demo;

/// <summary>The reference network a <see cref="DemoRow"/> measures; its JSON name is in <see cref="DemoNames.Of(DemoModel)"/>.</summary>
public enum DemoModel
{
    /// <summary>LeNet-300-100, the 784-300-100-10 multilayer perceptron (<c>mlp</c>).</summary>
    Mlp,

    /// <summary>The small convolutional network (<c>cnn</c>).</summary>
    Cnn,
}
