// What the engine's vectorised loops tell the compiler (docs/architecture.md, "Vectorised passes").
#pragma once

// Before a loop over lanes: its iterations do not depend on each other through memory, so the
// compiler vectorises it without a run-time alias check (one that failed made GCC run the scalar copy).
#if defined(__clang__)
#define PLSIM_VECTORIZE_LOOP _Pragma("clang loop vectorize(assume_safety)")
#elif defined(__GNUC__)
#define PLSIM_VECTORIZE_LOOP _Pragma("GCC ivdep")
#else
#define PLSIM_VECTORIZE_LOOP
#endif
