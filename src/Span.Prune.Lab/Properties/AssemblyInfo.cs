// Locals are initialised explicitly where it matters; the training loops fill every buffer before reading it.
[module: System.Runtime.CompilerServices.SkipLocalsInit]
