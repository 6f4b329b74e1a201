// What the engine's vectorised loops tell the compiler (docs/architecture.md, "Vectorised passes").
#pragma once

// Before a loop over lanes: its iterations do not depend on each other through memory, so the
// compiler vectorises it without a run-time alias check (one that failed made GCC run the scalar copy).
// GCC only: the engine is built with GCC; clang (the fuzz build) vectorises without the hint or not at
// all, and its `loop vectorize(assume_safety)` warns wherever its optimizer is off.
#if defined(__GNUC__) && !defined(__clang__)
#define PLSIM_VECTORIZE_LOOP _Pragma("GCC ivdep")
#else
#define PLSIM_VECTORIZE_LOOP
#endif
