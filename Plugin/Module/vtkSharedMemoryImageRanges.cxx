// SPDX-License-Identifier: BSD-3-Clause
#include "vtkSharedMemoryImageRanges.h"

#include "vtkAbstractArray.h"
#include "vtkDataArray.h"
#include "vtkInformation.h"
#include "vtkInformationVector.h"
#include "vtkNew.h"
#include "vtkType.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <vector>

// The scans in several instruction sets, chosen when the library is loaded.
// The loop is inlined into each clone (flatten), so that each compiles it
// for its own instruction set.
#if defined(__x86_64__) && defined(__linux__) && (defined(__GNUC__) || defined(__clang__))
#define SMI_VECTOR_CLONES __attribute__((target_clones("avx2", "sse4.1", "default"), flatten))
#else
#define SMI_VECTOR_CLONES
#endif

namespace smi
{
namespace
{
/// Ranges of one array: per component, and of the squared magnitude; each
/// also over the finite values (the tuples with no infinite component).
struct ValueRanges
{
  std::vector<double> Range, Finite; // min, max per component
  double Norm2[2], FiniteNorm2[2];   // squared magnitude
};

namespace detail
{
// Integers: every value is finite. A fixed component count and 32-bit
// squared norms (at most 4 x 255^2, or 65535^2), so the loop vectorizes.
template <typename T, int C>
void ScanIntegersT(const T* values, vtkIdType tuples, ValueRanges& r)
{
  T lo[C], hi[C];
  for (int c = 0; c < C; ++c)
  {
    lo[c] = hi[c] = values[c];
  }
  uint32_t n2lo = UINT32_MAX, n2hi = 0;
  for (vtkIdType t = 0; t < tuples; ++t, values += C)
  {
    uint32_t n2 = 0;
    for (int c = 0; c < C; ++c)
    {
      const T v = values[c];
      lo[c] = v < lo[c] ? v : lo[c];
      hi[c] = v > hi[c] ? v : hi[c];
      n2 += uint32_t(v) * uint32_t(v);
    }
    n2lo = n2 < n2lo ? n2 : n2lo;
    n2hi = n2 > n2hi ? n2 : n2hi;
  }
  for (int c = 0; c < C; ++c)
  {
    r.Range[2 * c] = r.Finite[2 * c] = lo[c];
    r.Range[2 * c + 1] = r.Finite[2 * c + 1] = hi[c];
  }
  r.Norm2[0] = r.FiniteNorm2[0] = double(n2lo);
  r.Norm2[1] = r.FiniteNorm2[1] = double(n2hi);
}

// One clone set per pixel layout (target_clones needs plain functions).
SMI_VECTOR_CLONES void ScanGray8(const uint8_t* v, vtkIdType n, ValueRanges& r)
{
  ScanIntegersT<uint8_t, 1>(v, n, r);
}
SMI_VECTOR_CLONES void ScanRGB8(const uint8_t* v, vtkIdType n, ValueRanges& r)
{
  ScanIntegersT<uint8_t, 3>(v, n, r);
}
SMI_VECTOR_CLONES void ScanRGBA8(const uint8_t* v, vtkIdType n, ValueRanges& r)
{
  ScanIntegersT<uint8_t, 4>(v, n, r);
}
SMI_VECTOR_CLONES void ScanGray16(const uint16_t* v, vtkIdType n, ValueRanges& r)
{
  ScanIntegersT<uint16_t, 1>(v, n, r);
}

// One-component integers of any width and sign: min and max (each value
// is finite), the squared magnitude from them in double (no overflow).
template <typename T>
void ScanOneIntegerT(const T* values, vtkIdType tuples, ValueRanges& r)
{
  T lo = values[0], hi = values[0];
  for (vtkIdType t = 0; t < tuples; ++t)
  {
    const T v = values[t];
    lo = v < lo ? v : lo;
    hi = v > hi ? v : hi;
  }
  r.Range[0] = r.Finite[0] = double(lo);
  r.Range[1] = r.Finite[1] = double(hi);
  const double l2 = double(lo) * double(lo), h2 = double(hi) * double(hi);
  r.Norm2[0] = r.FiniteNorm2[0] = (lo <= 0 && hi >= 0) ? 0.0 : std::min(l2, h2);
  r.Norm2[1] = r.FiniteNorm2[1] = std::max(l2, h2);
}
SMI_VECTOR_CLONES void ScanInt16(const int16_t* v, vtkIdType n, ValueRanges& r)
{
  ScanOneIntegerT<int16_t>(v, n, r);
}
SMI_VECTOR_CLONES void ScanInt32(const int32_t* v, vtkIdType n, ValueRanges& r)
{
  ScanOneIntegerT<int32_t>(v, n, r);
}
SMI_VECTOR_CLONES void ScanUInt32(const uint32_t* v, vtkIdType n, ValueRanges& r)
{
  ScanOneIntegerT<uint32_t>(v, n, r);
}

template <typename T>
void ScanFloats(const T* values, vtkIdType tuples, int comps, ValueRanges& r)
{
  const double big = std::numeric_limits<double>::max();
  for (int c = 0; c < comps; ++c)
  {
    r.Range[2 * c] = r.Finite[2 * c] = big;
    r.Range[2 * c + 1] = r.Finite[2 * c + 1] = -big;
  }
  r.Norm2[0] = r.FiniteNorm2[0] = big;
  r.Norm2[1] = r.FiniteNorm2[1] = -big;
  for (vtkIdType t = 0; t < tuples; ++t, values += comps)
  {
    double n2 = 0.0;
    bool finite = true, nan = false;
    for (int c = 0; c < comps; ++c)
    {
      const double v = values[c];
      if (std::isnan(v))
      {
        nan = true;
        continue;
      }
      r.Range[2 * c] = std::min(r.Range[2 * c], v);
      r.Range[2 * c + 1] = std::max(r.Range[2 * c + 1], v);
      if (std::isfinite(v))
      {
        r.Finite[2 * c] = std::min(r.Finite[2 * c], v);
        r.Finite[2 * c + 1] = std::max(r.Finite[2 * c + 1], v);
      }
      else
      {
        finite = false;
      }
      n2 += v * v;
    }
    if (nan)
    {
      continue;
    }
    r.Norm2[0] = std::min(r.Norm2[0], n2);
    r.Norm2[1] = std::max(r.Norm2[1], n2);
    if (finite)
    {
      r.FiniteNorm2[0] = std::min(r.FiniteNorm2[0], n2);
      r.FiniteNorm2[1] = std::max(r.FiniteNorm2[1], n2);
    }
  }
}

void SetComponentRanges(
  vtkInformation* info, vtkInformationInformationVectorKey* key, const std::vector<double>& r)
{
  const int comps = static_cast<int>(r.size() / 2);
  vtkNew<vtkInformationVector> perComponent;
  perComponent->SetNumberOfInformationObjects(comps);
  for (int c = 0; c < comps; ++c)
  {
    perComponent->GetInformationObject(c)->Set(vtkDataArray::COMPONENT_RANGE(), &r[2 * c], 2);
  }
  info->Set(key, perComponent);
}
} // namespace detail
} // namespace

//------------------------------------------------------------------------------
bool CacheValueRanges(vtkDataArray* array)
{
  const vtkIdType tuples = array->GetNumberOfTuples();
  const int comps = array->GetNumberOfComponents();
  if (tuples <= 0 || comps <= 0)
  {
    return false;
  }
  ValueRanges r;
  r.Range.resize(2 * comps);
  r.Finite.resize(2 * comps);
  const void* data = array->GetVoidPointer(0);
  switch (array->GetDataType())
  {
    case VTK_UNSIGNED_CHAR:
    {
      const auto* bytes = static_cast<const uint8_t*>(data);
      if (comps == 1)
        detail::ScanGray8(bytes, tuples, r);
      else if (comps == 3)
        detail::ScanRGB8(bytes, tuples, r);
      else if (comps == 4)
        detail::ScanRGBA8(bytes, tuples, r);
      else
        return false;
      break;
    }
    case VTK_UNSIGNED_SHORT:
      if (comps != 1)
        return false;
      detail::ScanGray16(static_cast<const uint16_t*>(data), tuples, r);
      break;
    case VTK_SHORT:
    case VTK_INT:
    case VTK_UNSIGNED_INT:
      if (comps != 1)
        return false;
      if (array->GetDataType() == VTK_SHORT)
        detail::ScanInt16(static_cast<const int16_t*>(data), tuples, r);
      else if (array->GetDataType() == VTK_INT)
        detail::ScanInt32(static_cast<const int32_t*>(data), tuples, r);
      else
        detail::ScanUInt32(static_cast<const uint32_t*>(data), tuples, r);
      break;
    case VTK_FLOAT:
      detail::ScanFloats(static_cast<const float*>(data), tuples, comps, r);
      break;
    case VTK_DOUBLE:
      detail::ScanFloats(static_cast<const double*>(data), tuples, comps, r);
      break;
    default:
      return false;
  }
  vtkInformation* info = array->GetInformation();
  detail::SetComponentRanges(info, vtkAbstractArray::PER_COMPONENT(), r.Range);
  detail::SetComponentRanges(info, vtkAbstractArray::PER_FINITE_COMPONENT(), r.Finite);
  if (comps > 1)
  {
    const double norm[2] = { std::sqrt(r.Norm2[0]), std::sqrt(r.Norm2[1]) };
    const double finiteNorm[2] = { std::sqrt(r.FiniteNorm2[0]), std::sqrt(r.FiniteNorm2[1]) };
    info->Set(vtkDataArray::L2_NORM_RANGE(), norm, 2);
    info->Set(vtkDataArray::L2_NORM_FINITE_RANGE(), finiteNorm, 2);
  }
  return true;
}
} // namespace smi

