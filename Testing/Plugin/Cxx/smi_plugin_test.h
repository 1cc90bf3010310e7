// SPDX-License-Identifier: BSD-3-Clause
// Shared by the plugin's C++ tests: CHECK(cond, fmt, ...) prints the line,
// the condition and a message, then returns false from the check function.
#ifndef smi_plugin_test_h
#define smi_plugin_test_h

#include <cstdio>

#define CHECK(cond, ...)                                                                           \
  do                                                                                               \
  {                                                                                                \
    if (!(cond))                                                                                   \
    {                                                                                              \
      std::fprintf(stderr, "FAILED line %d: %s: ", __LINE__, #cond);                              \
      std::fprintf(stderr, __VA_ARGS__);                                                           \
      std::fprintf(stderr, "\n");                                                                  \
      return false;                                                                                \
    }                                                                                              \
  } while (0)

#endif
