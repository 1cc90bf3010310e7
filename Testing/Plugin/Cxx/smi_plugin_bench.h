// SPDX-License-Identifier: BSD-3-Clause
// Shared by the plugin's C++ benchmark modes (--bench): time two operations
// frame by frame, alternating which goes first, and compare their medians.
// On a shared, noisy machine a slow spell then hits both sides alike, and
// one outlier frame moves neither median (means of blocks moved by 20-40 %).
#ifndef smi_plugin_bench_h
#define smi_plugin_bench_h

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <string>
#include <vector>

#include <unistd.h>

// Medians (ms) of `a` and `b` over `frames` frames, after 5 untimed ones.
// `prepare` runs untimed before each timed call (e.g. publish a new frame).
struct SMIMedians
{
  double A = 0.0;
  double B = 0.0;
};

// One timed call after an untimed `prepare`, kept in `into` when `keep`.
template <typename P, typename F>
void SMITimeOne(P& prepare, F& call, std::vector<double>& into, bool keep)
{
  using Clock = std::chrono::steady_clock;
  prepare();
  const Clock::time_point start = Clock::now();
  call();
  const double ms = std::chrono::duration<double, std::milli>(Clock::now() - start).count();
  if (keep)
  {
    into.push_back(ms);
  }
}

template <typename P, typename A, typename B>
SMIMedians SMIInterleavedMedians(int frames, P&& prepare, A&& a, B&& b)
{
  std::vector<double> ta, tb;
  for (int i = -5; i < frames; ++i)
  {
    const bool keep = i >= 0;
    if (i % 2 == 0)
    {
      SMITimeOne(prepare, a, ta, keep);
      SMITimeOne(prepare, b, tb, keep);
    }
    else
    {
      SMITimeOne(prepare, b, tb, keep);
      SMITimeOne(prepare, a, ta, keep);
    }
  }
  auto median = [](std::vector<double>& v)
  {
    if (v.empty())
    {
      return 0.0;
    }
    std::nth_element(v.begin(), v.begin() + v.size() / 2, v.end());
    return v[v.size() / 2];
  };
  SMIMedians m;
  m.A = median(ta);
  m.B = median(tb);
  return m;
}

// The --bench mode of a test's main: `argv` is `--bench WxH [FRAMES]`. Runs
// bench(w, h, frames, file) on a fresh stream file in /dev/shm (named after
// `name`), removed afterwards. Returns -1 when argv asks for no benchmark.
inline int SMIRunBenchMode(int argc, char* argv[], const char* name,
  const std::function<int(int, int, int, const std::string&)>& bench)
{
  if (argc < 3 || std::strcmp(argv[1], "--bench") != 0)
  {
    return -1;
  }
  int w = 0, h = 0;
  if (std::sscanf(argv[2], "%dx%d", &w, &h) != 2 || w <= 0 || h <= 0)
  {
    std::fprintf(stderr, "usage: %s --bench WxH [FRAMES]\n", argv[0]);
    return EXIT_FAILURE;
  }
  const int frames = argc > 3 ? std::atoi(argv[3]) : 0;
  const std::string file =
    std::string("/dev/shm/smi-bench-") + name + "-" + std::to_string(getpid()) + ".smi";
  const int rc = bench(w, h, frames > 0 ? frames : 60, file);
  unlink(file.c_str());
  return rc;
}

#endif
