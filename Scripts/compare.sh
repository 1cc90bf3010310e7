#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# The peer comparison, by the name the README and scripts have always used:
# it runs Benchmarks/compare.sh with the same arguments (that script's
# header says what they are).
exec bash "$(cd "$(dirname "$0")/.." && pwd)/Benchmarks/compare.sh" "$@"
