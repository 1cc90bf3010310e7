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
 * time (target_clones). RGB8 (stride 3, with magnitudes), RGBA8 and
 * one-component float32 have hand-written AVX2 kernels, used when the CPU
 * has AVX2 (checked once at run time); RGB8 and RGBA8 also have AVX-512
 * ones (BW, VBMI, VNNI), used first when the CPU has those: 1080p RGB in
 * 0.18 ms instead of 0.43 on a Zen 5 VM (4K 1.2 ms instead of 1.6, close
 * to a plain read of the frame, 1.1 ms). Gray formats ask for no magnitude:
 * their loop is a plain min/max. Measured on the 2-CPU development VM: a
 * 4K RGB frame in 1.0 ms (1.3-1.6 x as fast as a memcpy of it, from
 * memory), a 1080p one in 0.25 ms (0.5 x a memcpy while the frame sits in
 * the cache, where the copy runs at cache speed and the scan is bound by
 * its arithmetic); the autovectorized loop took 2.2 and 0.55 ms.
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
