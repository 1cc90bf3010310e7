// SPDX-License-Identifier: BSD-3-Clause
/**
 * @file   vtkSharedMemoryImageRanges.h
 * @brief  Value ranges of a frame's pixel array, computed in one pass and
 *         cached in the array. Private to the module.
 *
 * ParaView gathers the data information of every update (the Information
 * panel, color maps): for each component the range and the finite range,
 * and for several components the range of the magnitude, each a pass of
 * VTK's generic code over the whole frame (about half of the GUI's time per
 * frame of a live stream when measured). A vtkDataArray answers those from
 * its information keys when they are set after its last Modified(); this
 * fills them all in one pass over the frame just copied (in cache), with
 * the values VTK would compute: NaN skipped, infinities in the range and out
 * of the finite range, the magnitude range from the squared norms.
 *
 * The pass is vectorized: its source is compiled with -O3, and on x86-64
 * in AVX2, SSE4.1 and baseline versions, the best the CPU has chosen at load
 * time (target_clones); measured at 1080p RGB, 0.6 ms with AVX2 against
 * 8-10 ms for the scalar loop.
 */
#ifndef vtkSharedMemoryImageRanges_h
#define vtkSharedMemoryImageRanges_h

class vtkDataArray;

namespace smi
{
/// Compute the ranges of `array` (unsigned char with 1, 3 or 4 components;
/// unsigned short, short, int and unsigned int with 1; float and double
/// with any number; anything else is left to VTK) and cache them in it. Call after the array's last Modified(). False
/// when nothing was cached.
bool CacheValueRanges(vtkDataArray* array);
}

#endif
