// Locals are always written before they are read in this library's kernels; skipping the zero-init
// of stackalloc'd scratch and large structs is measurable in the selection and scoring loops.
[module: System.Runtime.CompilerServices.SkipLocalsInit]
