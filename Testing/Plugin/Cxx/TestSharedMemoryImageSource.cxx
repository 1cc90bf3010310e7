// SPDX-License-Identifier: BSD-3-Clause
// vtkSharedMemoryImageSource against a server in another process (forked,
// publishing with the C API): every format, every pixel and the orientation
// (the tools' asymmetric test pattern), FrameNumber and Timestamp, the
// GetNeedsUpdate() transitions, spacing/origin/depth of a volume, and the
// messages for a missing file and a server that went away. Then the
// zero-copy path: frames stored bottom row first (a writer process that
// keeps publishing them) are lent to VTK without a copy; a frame kept by a
// downstream filter, or by a copy of the output after the source is gone,
// keeps its pixels exactly while the writer goes on, and is released (the
// slot's hold back to 0, its buffer free for the writer) when dropped.
//
// With --bench WxH [FRAMES] it measures instead (for bench_plugin.py): the
// source's Update() on a just-published RGB frame stored bottom row first
// (lent to VTK, its ranges computed) against one memcpy of that
// frame out of the stream by a plain C client (lock, memcpy, unlock), in one
// process, frame by frame (medians).

#include "vtkSharedMemoryImageSource.h"

#include "vtkDataArray.h"
#include "vtkDoubleArray.h"
#include "vtkFieldData.h"
#include "vtkImageChangeInformation.h"
#include "vtkImageData.h"
#include "vtkInformation.h"
#include "vtkNew.h"
#include "vtkPointData.h"
#include "vtkSmartPointer.h"
#include "vtkStringArray.h"
#include "vtkTestErrorObserver.h"
#include "vtkWeakPointer.h"

#include "shared_memory_image_client_priv.h"
extern "C"
{
#include "smi_pattern.h" // the tools' test pattern (a C header)
}

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <iterator>
#include <limits>
#include <string>
#include <vector>

#include "smi_plugin_bench.h"
#include "smi_plugin_test.h"

namespace
{
// One request from the test to its publisher child, over a pipe.
struct Request
{
  uint32_t format;
  uint32_t width, height, depth;
  uint32_t number;
  double spacing[3];
  double origin[3];
  int specials; // float32, float64: pixels 0-3 become NaN, +infinity, -infinity, -0.0
};

// The value of voxel (x, y, z), y from the top, of the volume test frames.
float VolumeValue(uint32_t x, uint32_t y, uint32_t z)
{
  return static_cast<float>(x) + 10.0f * static_cast<float>(y) + 1000.0f * static_cast<float>(z);
}

// The child: serve `path`, publish one frame per request, ack each with a byte.
int RunPublisher(const char* path, int requests, int acks)
{
  SharedMemoryImageDesc largest = {};
  largest.format = IMAGESTREAM_FORMAT_RGBA8;
  largest.width = 256;
  largest.height = 256;
  largest.depth = 4;
  if (SharedMemoryImageStream_createfileformat(path, &largest) != IMAGESTREAM_NOERROR)
  {
    return 1;
  }
  SharedMemoryImageStream server = nullptr;
  if (SharedMemoryImageStream_create(path,
        IMAGESTREAM_OPTIONS_SERVER | IMAGESTREAM_OPTIONS_EXTENDED, &server) < 0)
  {
    return 1;
  }
  Request req;
  while (read(requests, &req, sizeof(req)) == static_cast<ssize_t>(sizeof(req)))
  {
    SharedMemoryImageDesc desc = {};
    desc.format = req.format;
    desc.width = req.width;
    desc.height = req.height;
    desc.depth = req.depth;
    desc.timestamp = 1000.0 + req.number;
    std::memcpy(desc.spacing, req.spacing, sizeof(desc.spacing));
    std::memcpy(desc.origin, req.origin, sizeof(desc.origin));
    const size_t bpp = SharedMemoryImageStream_formatsize(req.format);
    std::vector<uint8_t> pixels(bpp * req.width * req.height * req.depth);
    if (req.depth == 1)
    {
      smi_pattern_fill(req.format, req.width, req.height, req.number, pixels.data(),
        bpp * req.width, 0);
    }
    else
    {
      float* v = reinterpret_cast<float*>(pixels.data());
      for (uint32_t z = 0; z < req.depth; ++z)
        for (uint32_t y = 0; y < req.height; ++y)
          for (uint32_t x = 0; x < req.width; ++x)
            *v++ = VolumeValue(x, y, z);
    }
    if (req.specials && req.format == IMAGESTREAM_FORMAT_FLOAT32 && pixels.size() >= 16)
    {
      const float special[4] = { std::numeric_limits<float>::quiet_NaN(),
        std::numeric_limits<float>::infinity(), -std::numeric_limits<float>::infinity(), -0.0f };
      std::memcpy(pixels.data(), special, sizeof(special));
    }
    if (req.specials && req.format == IMAGESTREAM_FORMAT_FLOAT64 && pixels.size() >= 32)
    {
      const double special[4] = { std::numeric_limits<double>::quiet_NaN(),
        std::numeric_limits<double>::infinity(), -std::numeric_limits<double>::infinity(), -0.0 };
      std::memcpy(pixels.data(), special, sizeof(special));
    }
    const char ack =
      SharedMemoryImageStream_putframeformat(server, &desc, req.number, pixels.data()) >= 0 ? 'y'
                                                                                           : 'n';
    if (write(acks, &ack, 1) != 1)
    {
      break;
    }
  }
  SharedMemoryImageStream_destroy(server);
  return 0;
}

struct Publisher
{
  pid_t Pid = -1;
  int Requests = -1;
  int Acks = -1;

  bool Start(const char* path)
  {
    int req[2], ack[2];
    if (pipe(req) != 0 || pipe(ack) != 0)
    {
      return false;
    }
    this->Pid = fork();
    if (this->Pid == 0)
    {
      close(req[1]);
      close(ack[0]);
      _exit(RunPublisher(path, req[0], ack[1]));
    }
    close(req[0]);
    close(ack[1]);
    this->Requests = req[1];
    this->Acks = ack[0];
    return this->Pid > 0;
  }

  bool Publish(const Request& req)
  {
    char ack = 0;
    return write(this->Requests, &req, sizeof(req)) == static_cast<ssize_t>(sizeof(req)) &&
      read(this->Acks, &ack, 1) == 1 && ack == 'y';
  }

  // Close the pipe: the child destroys its server and exits.
  bool Stop()
  {
    close(this->Requests);
    close(this->Acks);
    int status = 0;
    return waitpid(this->Pid, &status, 0) == this->Pid && WIFEXITED(status) &&
      WEXITSTATUS(status) == 0;
  }
};

Request Frame2D(uint32_t format, uint32_t width, uint32_t height, uint32_t number)
{
  Request req = {};
  req.format = format;
  req.width = width;
  req.height = height;
  req.depth = 1;
  req.number = number;
  req.spacing[0] = req.spacing[1] = req.spacing[2] = 1.0;
  return req;
}

// Check the source's output against pattern frame `n` of `format`.
bool CheckPattern(vtkImageData* image, uint32_t format, uint32_t width, uint32_t height,
  uint32_t n, int type, int comps)
{
  int dims[3];
  image->GetDimensions(dims);
  CHECK(dims[0] == static_cast<int>(width) && dims[1] == static_cast<int>(height) && dims[2] == 1,
    "dimensions %d x %d x %d, expected %u x %u x 1", dims[0], dims[1], dims[2], width, height);
  vtkDataArray* scalars = image->GetPointData()->GetScalars();
  CHECK(scalars != nullptr, "no scalars");
  CHECK(scalars->GetDataType() == type, "scalar type %s", scalars->GetDataTypeAsString());
  CHECK(scalars->GetNumberOfComponents() == comps, "%d components, expected %d",
    scalars->GetNumberOfComponents(), comps);
  vtkStringArray* pixelFormat =
    vtkStringArray::SafeDownCast(image->GetFieldData()->GetAbstractArray("PixelFormat"));
  CHECK(pixelFormat && pixelFormat->GetNumberOfValues() == 1 &&
      pixelFormat->GetValue(0) == SharedMemoryImageStream_formatname(format),
    "PixelFormat is not %s", SharedMemoryImageStream_formatname(format));

  // VTK's rows are bottom first: the pattern filled bottom-up is what VTK holds.
  const size_t bpp = SharedMemoryImageStream_formatsize(format);
  const size_t row = bpp * width;
  std::vector<uint8_t> expected(row * height);
  smi_pattern_fill(format, width, height, n, expected.data(), row, 1);
  const uint8_t* got = static_cast<const uint8_t*>(scalars->GetVoidPointer(0));
  for (uint32_t j = 0; j < height; ++j)
  {
    if (std::memcmp(got + j * row, expected.data() + j * row, row) != 0)
    {
      // Name the stream row (from the top) and guess: flipped or stale.
      std::vector<uint8_t> flipped(row * height);
      smi_pattern_fill(format, width, height, n, flipped.data(), row, 0);
      const bool isFlipped = std::memcmp(got, flipped.data(), row * height) == 0;
      CHECK(false, "frame %u (%s): VTK row %u (stream row %u from the top) differs%s", n,
        SharedMemoryImageStream_formatname(format), j, height - 1 - j,
        isFlipped ? ": the image is upside down" : "");
    }
  }
  // And the orientation in plain words, for RGB: the top row (largest y in
  // VTK) has G = n, the bottom row G = 3*(h-1) + n.
  if (format == IMAGESTREAM_FORMAT_RGB8)
  {
    const double gTop = scalars->GetComponent(static_cast<vtkIdType>(height - 1) * width, 1);
    const double gBottom = scalars->GetComponent(0, 1);
    CHECK(gTop == (n & 255) && gBottom == ((3 * (height - 1) + n) & 255),
      "green at the top %g, at the bottom %g", gTop, gBottom);
  }
  return true;
}

bool CheckFieldData(vtkImageData* image, uint32_t n)
{
  vtkDataArray* number = image->GetFieldData()->GetArray("FrameNumber");
  vtkDataArray* timestamp = image->GetFieldData()->GetArray("Timestamp");
  CHECK(number && number->GetNumberOfTuples() == 1, "no FrameNumber array");
  CHECK(timestamp && timestamp->GetNumberOfTuples() == 1, "no Timestamp array");
  CHECK(number->GetTuple1(0) == n, "FrameNumber %g, expected %u", number->GetTuple1(0), n);
  CHECK(timestamp->GetTuple1(0) == 1000.0 + n, "Timestamp %g, expected %g",
    timestamp->GetTuple1(0), 1000.0 + n);
  vtkDataArray* rate = image->GetFieldData()->GetArray("FramesPerSecond");
  vtkDataArray* alive = image->GetFieldData()->GetArray("ServerAlive");
  CHECK(rate && rate->GetNumberOfTuples() == 1 && rate->GetTuple1(0) >= 0.0,
    "no FramesPerSecond array");
  CHECK(alive && alive->GetNumberOfTuples() == 1, "no ServerAlive array");
  return true;
}

// The ServerAlive field of the output.
double ServerAlive(vtkImageData* image)
{
  vtkDataArray* alive = image->GetFieldData()->GetArray("ServerAlive");
  return alive ? alive->GetTuple1(0) : -1.0;
}

// The VTK scalars each stream format must become.
struct FormatScalars
{
  uint32_t format;
  int type, comps;
};
const FormatScalars Formats[] = {
  { IMAGESTREAM_FORMAT_RGB8, VTK_UNSIGNED_CHAR, 3 },
  { IMAGESTREAM_FORMAT_RGBA8, VTK_UNSIGNED_CHAR, 4 },
  { IMAGESTREAM_FORMAT_GRAY8, VTK_UNSIGNED_CHAR, 1 },
  { IMAGESTREAM_FORMAT_GRAY16, VTK_UNSIGNED_SHORT, 1 },
  { IMAGESTREAM_FORMAT_FLOAT32, VTK_FLOAT, 1 },
  { IMAGESTREAM_FORMAT_INT16, VTK_SHORT, 1 },
  { IMAGESTREAM_FORMAT_INT32, VTK_INT, 1 },
  { IMAGESTREAM_FORMAT_UINT32, VTK_UNSIGNED_INT, 1 },
  { IMAGESTREAM_FORMAT_FLOAT64, VTK_DOUBLE, 1 },
};

// The instrument formats with the range of a 256 x 256 pattern frame, which
// holds every value U of the pattern (Core/Tools/smi_pattern.h): the type's
// extremes for the integers.
struct InstrumentRange
{
  uint32_t format;
  double lo, hi;
};
const InstrumentRange InstrumentRanges[] = {
  { IMAGESTREAM_FORMAT_INT16, -32768.0, 32767.0 },
  { IMAGESTREAM_FORMAT_INT32, -2147483648.0, 2147483647.0 },
  { IMAGESTREAM_FORMAT_UINT32, 0.0, 4294967295.0 },
  { IMAGESTREAM_FORMAT_FLOAT64, -32768.0 / 3.0, 32767.0 / 3.0 },
};

// The value ranges ParaView asks for (per component and of the magnitude,
// finite or not) are the ones VTK computes for a plain copy of the array.
bool CheckRanges(vtkDataArray* pixels)
{
  // Cached by the source (before any GetRange() here could fill them).
  vtkInformation* info = pixels->GetInformation();
  CHECK(info->Has(vtkAbstractArray::PER_COMPONENT()) &&
      info->Has(vtkAbstractArray::PER_FINITE_COMPONENT()) &&
      (pixels->GetNumberOfComponents() == 1 || info->Has(vtkDataArray::L2_NORM_RANGE())),
    "the source did not cache the ranges of its %s pixels", pixels->GetDataTypeAsString());
  vtkSmartPointer<vtkDataArray> plain =
    vtkSmartPointer<vtkDataArray>::Take(vtkDataArray::CreateDataArray(pixels->GetDataType()));
  plain->SetNumberOfComponents(pixels->GetNumberOfComponents());
  plain->SetNumberOfTuples(pixels->GetNumberOfTuples());
  std::memcpy(plain->GetVoidPointer(0), pixels->GetVoidPointer(0),
    static_cast<size_t>(pixels->GetDataSize()) * pixels->GetDataTypeSize());
  for (int comp = -1; comp < pixels->GetNumberOfComponents(); ++comp)
  {
    double got[2], want[2];
    pixels->GetRange(got, comp);
    plain->GetRange(want, comp);
    CHECK(got[0] == want[0] && got[1] == want[1], "range of component %d is [%g, %g], not [%g, %g]",
      comp, got[0], got[1], want[0], want[1]);
    pixels->GetFiniteRange(got, comp);
    plain->GetFiniteRange(want, comp);
    CHECK(got[0] == want[0] && got[1] == want[1],
      "finite range of component %d is [%g, %g], not [%g, %g]", comp, got[0], got[1], want[0],
      want[1]);
  }
  return true;
}

// Publish pattern frame n (format, w x h), then: the source wants an update
// and produces exactly that frame, FrameNumber and Timestamp included.
bool PublishAndRead(Publisher& publisher, vtkSharedMemoryImageSource* source, uint32_t format,
  uint32_t w, uint32_t h, uint32_t n, bool ranges = true)
{
  CHECK(publisher.Publish(Frame2D(format, w, h, n)), "publishing frame %u failed", n);
  CHECK(source->GetNeedsUpdate(), "GetNeedsUpdate() false after frame %u", n);
  source->Update();
  const FormatScalars* f = std::find_if(std::begin(Formats), std::end(Formats),
    [format](const FormatScalars& e) { return e.format == format; });
  CHECK(f != std::end(Formats), "format %u is not in the table", format);
  return CheckPattern(source->GetOutput(), format, w, h, n, f->type, f->comps) &&
    CheckFieldData(source->GetOutput(), n) &&
    (!ranges || CheckRanges(source->GetOutput()->GetPointData()->GetScalars()));
}

bool Run(const std::string& path)
{
  vtkNew<vtkTest::ErrorObserver> observer;
  vtkNew<vtkSharedMemoryImageSource> source;
  source->AddObserver(vtkCommand::ErrorEvent, observer);
  source->AddObserver(vtkCommand::WarningEvent, observer);
  source->SetFileName(path.c_str());

  // No server yet: a status (no warning, no error), an empty image, no
  // update wanted, no blocking.
  CHECK(!source->GetNeedsUpdate(), "GetNeedsUpdate() with no file");
  CHECK(!observer->GetWarning(), "a warning for a missing file: %s",
    observer->GetWarningMessage().c_str());
  CHECK(std::string(source->GetStatus()).find("does not exist") != std::string::npos,
    "status: %s", source->GetStatus());
  source->Update();
  CHECK(!observer->GetError(), "error for a missing file: %s",
    observer->GetErrorMessage().c_str());
  CHECK(!observer->GetWarning(), "a warning for a missing file");
  CHECK(source->GetOutput()->GetNumberOfPoints() == 0, "points with no stream");

  Publisher publisher;
  CHECK(publisher.Start(path.c_str()), "cannot start the publisher");

  // A new stream's first frame is number 0, and the source says 0.
  if (!PublishAndRead(publisher, source, IMAGESTREAM_FORMAT_RGB8, 32, 16, 0))
  {
    return false;
  }
  CHECK(source->GetFrameNumber() == 0, "GetFrameNumber() %u", source->GetFrameNumber());

  // Every 2-D format, sizes not multiples of anything; numbers increase.
  uint32_t n = 5;
  for (const FormatScalars& f : Formats)
  {
    if (!PublishAndRead(publisher, source, f.format, 67 + n, 41, n))
    {
      return false;
    }
    CHECK(!observer->GetError(), "error: %s", observer->GetErrorMessage().c_str());
    CHECK(source->GetFrameNumber() == n, "GetFrameNumber() %u", source->GetFrameNumber());
    CHECK(!source->GetNeedsUpdate(), "GetNeedsUpdate() true with no newer frame than %u", n);
    n += 3;
  }

  // Instrument formats at 256 x 256: every value exact, the integer types'
  // extremes included, and the ranges are the types' extremes.
  for (const InstrumentRange& f : InstrumentRanges)
  {
    if (!PublishAndRead(publisher, source, f.format, 256, 256, n))
    {
      return false;
    }
    double range[2];
    source->GetOutput()->GetPointData()->GetScalars()->GetRange(range, 0);
    CHECK(range[0] == f.lo && range[1] == f.hi, "%s range [%.17g, %.17g], expected [%.17g, %.17g]",
      SharedMemoryImageStream_formatname(f.format), range[0], range[1], f.lo, f.hi);
    ++n;
  }

  // Float pixels that are NaN, infinite or -0.0: they arrive as they were
  // sent, and the cached ranges still are VTK's.
  for (uint32_t format : { IMAGESTREAM_FORMAT_FLOAT32, IMAGESTREAM_FORMAT_FLOAT64 })
  {
    Request special = Frame2D(format, 16, 8, n);
    special.specials = 1;
    CHECK(publisher.Publish(special), "publishing the float frame with NaN failed");
    CHECK(source->GetNeedsUpdate(), "GetNeedsUpdate() false after frame %u", n);
    source->Update();
    vtkDataArray* pixels = source->GetOutput()->GetPointData()->GetScalars();
    CHECK(pixels && std::isnan(pixels->GetTuple1(7 * 16)), "no NaN where it was published");
    CHECK(pixels->GetTuple1(7 * 16 + 1) == std::numeric_limits<double>::infinity() &&
        pixels->GetTuple1(7 * 16 + 2) == -std::numeric_limits<double>::infinity(),
      "no infinities where they were published");
    CHECK(pixels->GetTuple1(7 * 16 + 3) == 0.0 && std::signbit(pixels->GetTuple1(7 * 16 + 3)),
      "no -0.0 where it was published");
    if (!CheckRanges(pixels))
    {
      return false;
    }
    ++n;
  }

  // ComputeValueRanges off: no ranges cached (VTK computes them if asked).
  source->ComputeValueRangesOff();
  if (!PublishAndRead(publisher, source, IMAGESTREAM_FORMAT_RGB8, 30, 20, n, false))
  {
    return false;
  }
  CHECK(!source->GetOutput()->GetPointData()->GetScalars()->GetInformation()->Has(
          vtkAbstractArray::PER_COMPONENT()),
    "ranges cached with ComputeValueRanges off");
  source->ComputeValueRangesOn();
  ++n;

  // Two frames published between updates: the newest one is produced.
  CHECK(publisher.Publish(Frame2D(IMAGESTREAM_FORMAT_RGB8, 64, 48, n)), "publish");
  CHECK(publisher.Publish(Frame2D(IMAGESTREAM_FORMAT_RGB8, 64, 48, n + 1)), "publish");
  CHECK(source->GetNeedsUpdate(), "GetNeedsUpdate() false after two frames");
  source->Update();
  if (!CheckPattern(source->GetOutput(), IMAGESTREAM_FORMAT_RGB8, 64, 48, n + 1,
        VTK_UNSIGNED_CHAR, 3))
  {
    return false;
  }
  n += 2;

  // Same-size frames reuse the output's arrays in place while nothing else
  // holds them; a consumer that keeps a frame keeps its pixels, FrameNumber
  // and Timestamp (the next frame goes into other arrays).
  const void* before = source->GetOutput()->GetPointData()->GetScalars()->GetVoidPointer(0);
  if (!PublishAndRead(publisher, source, IMAGESTREAM_FORMAT_RGB8, 64, 48, n))
  {
    return false;
  }
  CHECK(source->GetOutput()->GetPointData()->GetScalars()->GetVoidPointer(0) == before,
    "the pixel array was not reused for a same-size frame");
  vtkNew<vtkImageData> kept;
  kept->ShallowCopy(source->GetOutput());
  if (!PublishAndRead(publisher, source, IMAGESTREAM_FORMAT_RGB8, 64, 48, n + 1) ||
    !CheckPattern(kept, IMAGESTREAM_FORMAT_RGB8, 64, 48, n, VTK_UNSIGNED_CHAR, 3) ||
    !CheckFieldData(kept, n))
  {
    std::fprintf(stderr, "a kept frame was overwritten by the next one\n");
    return false;
  }
  // A consumer that always holds the previous frame until the next update
  // (as ParaView's post filter does): two arrays take turns, none is
  // allocated per frame, and the held frame is never written to.
  // (Weak pointers: a freed array's address may come back for a new one.)
  std::vector<vtkWeakPointer<vtkDataArray>> seen;
  for (uint32_t k = n + 2; k < n + 8; ++k)
  {
    if (!PublishAndRead(publisher, source, IMAGESTREAM_FORMAT_RGB8, 64, 48, k) ||
      !CheckPattern(kept, IMAGESTREAM_FORMAT_RGB8, 64, 48, k - 1 == n + 1 ? n : k - 1,
        VTK_UNSIGNED_CHAR, 3))
    {
      std::fprintf(stderr, "a held frame was overwritten (frame %u)\n", k);
      return false;
    }
    kept->ShallowCopy(source->GetOutput());
    vtkDataArray* pixels = kept->GetPointData()->GetScalars();
    if (std::find(seen.begin(), seen.end(), pixels) == seen.end())
    {
      seen.push_back(pixels);
    }
  }
  CHECK(seen.size() == 2 && seen[0] && seen[1],
    "%zu pixel arrays for 6 frames with a consumer holding one (two should take turns)",
    seen.size());
  kept->Initialize();
  n += 8;
  n += 2;

  // A float volume with spacing and origin: depth becomes the z extent, and
  // rows flip within each slice.
  Request volume = Frame2D(IMAGESTREAM_FORMAT_FLOAT32, 5, 4, n);
  volume.depth = 3;
  volume.spacing[0] = 0.5;
  volume.spacing[1] = 0.25;
  volume.spacing[2] = 2.0;
  volume.origin[0] = -1.0;
  volume.origin[1] = 2.0;
  volume.origin[2] = 3.5;
  CHECK(publisher.Publish(volume), "publishing the volume failed");
  CHECK(source->GetNeedsUpdate(), "GetNeedsUpdate() false after the volume");
  source->Update();
  vtkImageData* image = source->GetOutput();
  int extent[6];
  image->GetExtent(extent);
  CHECK(extent[0] == 0 && extent[1] == 4 && extent[2] == 0 && extent[3] == 3 && extent[4] == 0 &&
      extent[5] == 2,
    "volume extent %d %d %d %d %d %d", extent[0], extent[1], extent[2], extent[3], extent[4],
    extent[5]);
  double spacing[3], origin[3];
  image->GetSpacing(spacing);
  image->GetOrigin(origin);
  CHECK(spacing[0] == 0.5 && spacing[1] == 0.25 && spacing[2] == 2.0, "spacing %g %g %g",
    spacing[0], spacing[1], spacing[2]);
  CHECK(origin[0] == -1.0 && origin[1] == 2.0 && origin[2] == 3.5, "origin %g %g %g", origin[0],
    origin[1], origin[2]);
  vtkDataArray* scalars = image->GetPointData()->GetScalars();
  CHECK(scalars && scalars->GetDataType() == VTK_FLOAT, "volume scalars are not float");
  for (int z = 0; z < 3; ++z)
    for (int j = 0; j < 4; ++j)
      for (int i = 0; i < 5; ++i)
      {
        const double got = scalars->GetTuple1(image->GetScalarIndex(i, j, z));
        const double want = VolumeValue(i, 3 - j, z);
        CHECK(got == want, "voxel (%d, %d, %d) is %g, expected %g", i, j, z, got, want);
      }
  if (!CheckFieldData(image, n))
  {
    return false;
  }

  // The server goes away: the status says so (no warning), the last frame
  // stays.
  CHECK(std::string(source->GetStatus()).find("attached to") != std::string::npos,
    "status while attached: %s", source->GetStatus());
  CHECK(ServerAlive(source->GetOutput()) == 1.0, "ServerAlive %g with a server",
    ServerAlive(source->GetOutput()));
  CHECK(publisher.Stop(), "the publisher did not exit cleanly");
  observer->Clear();
  // One update to say so in the output (ServerAlive 0), then nothing to do.
  CHECK(source->GetNeedsUpdate(), "GetNeedsUpdate() false when the server left");
  source->Update();
  CHECK(ServerAlive(source->GetOutput()) == 0.0, "ServerAlive %g after the server left",
    ServerAlive(source->GetOutput()));
  CHECK(!source->GetNeedsUpdate(), "GetNeedsUpdate() true again after the server left");
  CHECK(!observer->GetWarning() && !observer->GetError(), "a message when the server left: %s%s",
    observer->GetWarningMessage().c_str(), observer->GetErrorMessage().c_str());
  CHECK(std::string(source->GetStatus()).find("is gone") != std::string::npos,
    "status after the server left: %s", source->GetStatus());
  CHECK(source->GetOutput()->GetNumberOfPoints() == 60, "the last frame was not kept");
  CHECK(source->GetFrameNumber() == n, "frame number %u after the server left",
    source->GetFrameNumber());

  // A new server on the same file: picked up, frames go on.
  Publisher second;
  CHECK(second.Start(path.c_str()), "cannot start the second publisher");
  if (!PublishAndRead(second, source, IMAGESTREAM_FORMAT_RGB8, 32, 16, n + 10))
  {
    return false;
  }
  CHECK(second.Stop(), "the second publisher did not exit cleanly");

  // The file removed: said once, the last frame kept. Then a new file (a new
  // inode) by a third server: attached and read.
  observer->Clear();
  unlink(path.c_str());
  CHECK(source->GetNeedsUpdate(), "GetNeedsUpdate() false when the file was removed");
  source->Update();
  CHECK(ServerAlive(source->GetOutput()) == 0.0, "ServerAlive %g after the file was removed",
    ServerAlive(source->GetOutput()));
  CHECK(!source->GetNeedsUpdate(), "GetNeedsUpdate() true again after the file was removed");
  CHECK(std::string(source->GetStatus()).find("was removed") != std::string::npos,
    "status for a removed file: %s", source->GetStatus());
  CHECK(!observer->GetWarning(), "a warning for a removed file: %s",
    observer->GetWarningMessage().c_str());
  source->Modified();
  source->Update();
  CHECK(source->GetOutput()->GetNumberOfPoints() == 32 * 16, "the last frame was not kept");
  Publisher third;
  CHECK(third.Start(path.c_str()), "cannot start the third publisher");
  if (!PublishAndRead(third, source, IMAGESTREAM_FORMAT_GRAY8, 24, 8, n + 20))
  {
    return false;
  }

  // The file shrunk under the source and its server after a new frame was
  // published, while a consumer holds the output (so another array would be
  // used): an error, no SIGBUS, the last frame kept intact.
  vtkNew<vtkImageData> holder;
  holder->ShallowCopy(source->GetOutput());
  CHECK(third.Publish(Frame2D(IMAGESTREAM_FORMAT_GRAY8, 24, 8, n + 21)), "publish");
  CHECK(source->GetNeedsUpdate(), "GetNeedsUpdate() false after frame %u", n + 21);
  observer->Clear();
  CHECK(truncate(path.c_str(), 4096) == 0, "truncate failed");
  source->Update();
  CHECK(observer->GetError(), "no error for a file truncated under a new frame");
  if (!CheckPattern(source->GetOutput(), IMAGESTREAM_FORMAT_GRAY8, 24, 8, n + 20,
        VTK_UNSIGNED_CHAR, 1) ||
    !CheckFieldData(source->GetOutput(), n + 20))
  {
    std::fprintf(stderr, "the last frame was not kept after a failed copy\n");
    return false;
  }
  CHECK(!source->GetNeedsUpdate(), "GetNeedsUpdate() true on a truncated file");
  CHECK(third.Stop(), "the third publisher did not exit cleanly");
  return true;
}
}

namespace
{
const uint32_t LentWidth = 64;
const uint32_t LentHeight = 48;

// The child: publish pattern frames 1, 2, 3, ... stored bottom row first
// (as VTK has them: IMAGESTREAM_FRAME_BOTTOMUP), one every millisecond or
// so, until killed.
int RunBottomUpWriter(const char* path)
{
  SharedMemoryImageDesc desc = SMI_DESC_INIT;
  desc.format = IMAGESTREAM_FORMAT_RGB8;
  desc.width = LentWidth;
  desc.height = LentHeight;
  desc.flags = IMAGESTREAM_FRAME_BOTTOMUP;
  SharedMemoryImageStream server = nullptr;
  if (SharedMemoryImageStream_createfilelayout(path, IMAGESTREAM_LAYOUT_EXTENDED, &desc) < 0 ||
    SharedMemoryImageStream_create(
      path, IMAGESTREAM_OPTIONS_SERVER | IMAGESTREAM_OPTIONS_EXTENDED, &server) < 0)
  {
    return 1;
  }
  std::vector<uint8_t> pixels(size_t(LentWidth) * LentHeight * 3);
  for (uint32_t n = 1; n < 1000000; ++n)
  {
    smi_pattern_fill(IMAGESTREAM_FORMAT_RGB8, LentWidth, LentHeight, n, pixels.data(),
      size_t(LentWidth) * 3, 1);
    if (SharedMemoryImageStream_putframeformat(server, &desc, n, pixels.data()) < 0)
    {
      return 1;
    }
    usleep(1000);
  }
  return 0;
}

// Live clients' holds on the stream's buffers, in all; -1 when unreadable.
int Holders(const std::string& path, uint32_t* clients = nullptr)
{
  SharedMemoryStreamInfo info;
  if (SharedMemoryImageStream_inspect(path.c_str(), &info) != IMAGESTREAM_NOERROR)
  {
    return -1;
  }
  int held = 0;
  for (uint32_t b = 0; b < info.buffer_count && b < IMAGESTREAM_MAX_BUFFERS; ++b)
  {
    held += static_cast<int>(info.buffers[b].holders);
  }
  if (clients)
  {
    *clients = info.clients;
  }
  return held;
}

// Live clients' holds on buffer b, or -1.
int HoldersOf(const std::string& path, int b)
{
  SharedMemoryStreamInfo info;
  if (SharedMemoryImageStream_inspect(path.c_str(), &info) != IMAGESTREAM_NOERROR || b < 0 ||
    static_cast<uint32_t>(b) >= info.buffer_count)
  {
    return -1;
  }
  return static_cast<int>(info.buffers[b].holders);
}

// The buffer holding frame n, or -1.
int BufferOf(const std::string& path, uint32_t n)
{
  SharedMemoryStreamInfo info;
  if (SharedMemoryImageStream_inspect(path.c_str(), &info) == IMAGESTREAM_NOERROR)
  {
    for (uint32_t b = 0; b < info.buffer_count && b < IMAGESTREAM_MAX_BUFFERS; ++b)
    {
      if (info.buffers[b].state == 2 && info.buffers[b].frame == n)
      {
        return static_cast<int>(b);
      }
    }
  }
  return -1;
}

// Poll and update the source (for up to 5 s) until it produces a frame
// above `after` (a poll that saw one may find it overwritten by the time it
// locks: the source then keeps its frame), and check it: the pattern of its
// own frame number. Returns that number, or 0.
uint32_t NextFrame(vtkSharedMemoryImageSource* source, uint32_t after)
{
  for (int i = 0; i < 5000 && source->GetFrameNumber() <= after; ++i)
  {
    if (source->GetNeedsUpdate())
    {
      source->Update();
    }
    else
    {
      usleep(1000);
    }
  }
  const uint32_t n = source->GetFrameNumber();
  return n > after && CheckPattern(source->GetOutput(), IMAGESTREAM_FORMAT_RGB8, LentWidth,
                        LentHeight, n, VTK_UNSIGNED_CHAR, 3)
    ? n
    : 0;
}

// Frames stored bottom row first, lent to VTK while a writer keeps publishing.
bool RunZeroCopy(const std::string& path)
{
  const pid_t writer = fork();
  if (writer == 0)
  {
    _exit(RunBottomUpWriter(path.c_str()));
  }
  CHECK(writer > 0, "fork failed");
  struct Stop
  {
    pid_t Pid;
    ~Stop()
    {
      kill(this->Pid, SIGKILL);
      waitpid(this->Pid, nullptr, 0);
    }
  } stop{ writer };

  vtkNew<vtkSharedMemoryImageSource> source;
  source->SetFileName(path.c_str());
  for (int i = 0; i < 5000 && !source->IsAttached(); ++i)
  {
    source->GetNeedsUpdate();
    usleep(1000);
  }
  const uint32_t first = NextFrame(source, 0);
  CHECK(first != 0, "no exact bottom-up frame from the writer");
  // Lent: the output's pixels are the locked frame (one hold), not a copy.
  CHECK(Holders(path) == 1, "%d holds after the first zero-copy frame, expected 1", Holders(path));

  // A downstream filter keeps frame `first` (its output shares the array)
  // while the source moves on: never overwritten, every byte.
  vtkSmartPointer<vtkImageChangeInformation> downstream =
    vtkSmartPointer<vtkImageChangeInformation>::New();
  downstream->SetInputConnection(source->GetOutputPort());
  downstream->Update();
  const int kept = BufferOf(path, first);
  CHECK(kept >= 0, "frame %u is in no buffer", first);
  uint32_t last = first;
  for (int k = 0; k < 30; ++k)
  {
    const uint32_t n = NextFrame(source, last);
    CHECK(n > last, "no frame after %u within 5 s", last);
    last = n;
    if (!CheckPattern(downstream->GetOutput(), IMAGESTREAM_FORMAT_RGB8, LentWidth, LentHeight,
          first, VTK_UNSIGNED_CHAR, 3))
    {
      std::fprintf(stderr, "the frame kept by a downstream filter changed (update %d)\n", k);
      return false;
    }
    CHECK(Holders(path) == 2, "%d holds with one frame kept downstream, expected 2",
      Holders(path));
  }
  // Dropped: released at once; the writer reuses its buffer.
  downstream = nullptr;
  CHECK(Holders(path) == 1, "%d holds after the downstream filter went, expected 1",
    Holders(path));
  CHECK(HoldersOf(path, kept) == 0, "the buffer of frame %u is still held", first);

  // ZeroCopy off: copied, nothing stays locked.
  source->ZeroCopyOff();
  last = NextFrame(source, last);
  CHECK(last != 0, "no copied frame");
  CHECK(Holders(path) == 0, "%d holds with ZeroCopy off", Holders(path));
  source->ZeroCopyOn();

  // A frame kept after its source is gone stays locked and exact until dropped.
  last = NextFrame(source, last);
  CHECK(last != 0, "no zero-copy frame again");
  vtkSmartPointer<vtkImageData> copy = vtkSmartPointer<vtkImageData>::New();
  copy->ShallowCopy(source->GetOutput());
  source->SetFileName(nullptr); // detached: the output is emptied
  source->Update();
  CHECK(Holders(path) == 1, "%d holds for a frame kept past its source, expected 1",
    Holders(path));
  usleep(50000); // the writer goes on meanwhile
  CHECK(CheckPattern(copy, IMAGESTREAM_FORMAT_RGB8, LentWidth, LentHeight, last,
          VTK_UNSIGNED_CHAR, 3),
    "a frame kept past its source changed");
  copy = nullptr;
  uint32_t clients = 99;
  CHECK(Holders(path, &clients) == 0 && clients == 0,
    "%d holds and %u clients after the last frame was dropped", Holders(path), clients);
  return true;
}
}

// The benchmark: both sides read the same stream, each frame just published
// (publishing is not timed); prints one line of figures.
int Bench(int width, int height, int frames, const std::string& path)
{
  const uint32_t w = static_cast<uint32_t>(width);
  const uint32_t h = static_cast<uint32_t>(height);
  SharedMemoryImageStream server = nullptr;
  SharedMemoryImageStream client = nullptr;
  if (SharedMemoryImageStream_createfile(path.c_str(), w, h) != IMAGESTREAM_NOERROR ||
    SharedMemoryImageStream_create(path.c_str(),
      IMAGESTREAM_OPTIONS_SERVER | IMAGESTREAM_OPTIONS_EXTENDED, &server) < 0 ||
    SharedMemoryImageStream_create(path.c_str(), IMAGESTREAM_OPTIONS_ANYFORMAT, &client) < 0)
  {
    std::fprintf(stderr, "cannot set up %s\n", path.c_str());
    return EXIT_FAILURE;
  }
  const size_t bytes = size_t(w) * h * 3;
  std::vector<uint8_t> frame(bytes);
  std::vector<uint8_t> copy(bytes, 1); // warm, as the source's reused array is
  smi_pattern_fill(IMAGESTREAM_FORMAT_RGB8, w, h, 1, frame.data(), size_t(w) * 3, 0);
  SharedMemoryImageDesc desc = SMI_DESC_INIT; // stored bottom row first: lent to VTK
  desc.format = IMAGESTREAM_FORMAT_RGB8;
  desc.width = w;
  desc.height = h;
  desc.depth = 1;
  desc.flags = IMAGESTREAM_FRAME_BOTTOMUP;

  vtkNew<vtkSharedMemoryImageSource> source;
  source->SetFileName(path.c_str());
  bool ok = true;
  int reused = 0;
  const void* last = nullptr;
  const SMIMedians m = SMIInterleavedMedians(
    frames,
    [&] { ok &= SharedMemoryImageStream_putframeformat(server, &desc, 0, frame.data()) >= 0; },
    [&]
    {
      SharedMemoryFrame locked = nullptr;
      ok &= SharedMemoryImageStream_lock(client, &locked) == IMAGESTREAM_NOERROR;
      if (locked)
      {
        std::memcpy(copy.data(), locked->buffer, bytes);
        SharedMemoryImageStream_unlock(client);
      }
    },
    [&]
    {
      source->Modified();
      source->Update();
      vtkDataArray* scalars = source->GetOutput()->GetPointData()->GetScalars();
      const void* now = scalars ? scalars->GetVoidPointer(0) : nullptr;
      reused += now && now == last;
      last = now;
    });
  // The pipeline alone: an update that finds no newer frame (nothing copied).
  const SMIMedians idle = SMIInterleavedMedians(
    frames, [] {},
    [&]
    {
      source->Modified();
      source->Update();
    },
    [] {});
  int dims[3];
  source->GetOutput()->GetDimensions(dims);
  ok &= dims[0] == static_cast<int>(w) && dims[1] == static_cast<int>(h);
  SharedMemoryImageStream_destroy(client);
  SharedMemoryImageStream_destroy(server);
  if (!ok)
  {
    std::fprintf(stderr, "the benchmark's frames did not go through\n");
    return EXIT_FAILURE;
  }
  std::printf("bench %ux%u memcpy_ms %.3f update_ms %.3f ratio %.2f idle_update_ms %.3f "
              "array_reused %d/%d\n",
    w, h, m.A, m.B, m.A / m.B, idle.A, reused, frames + 4);
  return EXIT_SUCCESS;
}

int TestSharedMemoryImageSource(int argc, char* argv[])
{
  const int bench = SMIRunBenchMode(argc, argv, "source", Bench);
  if (bench >= 0)
  {
    return bench;
  }
  const std::string path =
    "/dev/shm/smi-test-source-" + std::to_string(static_cast<long>(getpid())) + ".smi";
  unlink(path.c_str());
  bool ok = Run(path);
  unlink(path.c_str());
  ok = ok && RunZeroCopy(path);
  unlink(path.c_str());
  if (!ok)
  {
    std::fprintf(stderr, "TestSharedMemoryImageSource failed\n");
    return EXIT_FAILURE;
  }
  std::printf("TestSharedMemoryImageSource passed\n");
  return EXIT_SUCCESS;
}

int main(int argc, char* argv[])
{
  return TestSharedMemoryImageSource(argc, argv);
}
