// SPDX-License-Identifier: BSD-3-Clause
// vtkSharedMemoryImageWriter -> vtkSharedMemoryImageSource round trips (RGB,
// RGBA, gray8, gray16, a float volume with spacing and origin; short, int,
// unsigned int and double with their extremes, NaN, infinity, -0.0), exact
// values;
// the orientation a C client sees; one server across writes with increasing
// frame numbers; a file grown for a larger frame; EnSight's layout; and the
// errors: refused scalars, no file name, a garbage file, a missing file.

#include "vtkSharedMemoryImageSource.h"
#include "vtkSharedMemoryImageWriter.h"

#include "vtkDataArray.h"
#include "vtkFieldData.h"
#include "vtkImageData.h"
#include "vtkNew.h"
#include "vtkPointData.h"
#include "vtkSmartPointer.h"
#include "vtkTestErrorObserver.h"

#include "shared_memory_image_client_priv.h"

#include <fcntl.h>
#include <sys/time.h>
#include <unistd.h>

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <string>

#include "smi_plugin_test.h"

namespace
{
std::string TestFile(const char* name)
{
  return "/dev/shm/smi-test-writer-" + std::to_string(static_cast<long>(getpid())) + "-" + name +
    ".smi";
}

// The instrument types' values from v in [0, 65536): negative ones too, the
// whole range of 32-bit types.
double InstrumentValue(int type, double v)
{
  switch (type)
  {
    case VTK_SHORT:
      return v - 32768.0;
    case VTK_INT:
      return v * 65537.0 - 2147483648.0;
    case VTK_UNSIGNED_INT:
      return v * 65537.0;
    case VTK_DOUBLE:
      return v / 3.0 - 1000.0;
    default:
      return v;
  }
}

// The first values of a one-component instrument array become its type's
// extremes (integers) or NaN, +infinity, -infinity and -0.0 (double).
void SetSpecialValues(vtkDataArray* scalars)
{
  const int type = scalars->GetDataType();
  if (scalars->GetNumberOfComponents() != 1 || scalars->GetNumberOfTuples() < 4)
  {
    return;
  }
  if (type == VTK_DOUBLE)
  {
    const double special[4] = { std::numeric_limits<double>::quiet_NaN(),
      std::numeric_limits<double>::infinity(), -std::numeric_limits<double>::infinity(), -0.0 };
    std::memcpy(scalars->GetVoidPointer(0), special, sizeof(special));
  }
  else if (type == VTK_SHORT || type == VTK_INT || type == VTK_UNSIGNED_INT)
  {
    scalars->SetComponent(0, 0, scalars->GetDataTypeMin());
    scalars->SetComponent(1, 0, scalars->GetDataTypeMax());
  }
}

// An image whose every component differs from its neighbours' and from its
// mirror images: value = (7*i + 31*j + 101*k + 13*c + seed) mod modulus.
vtkSmartPointer<vtkImageData> MakeImage(int type, int comps, int w, int h, int d, int seed)
{
  auto image = vtkSmartPointer<vtkImageData>::New();
  image->SetDimensions(w, h, d);
  image->AllocateScalars(type, comps);
  vtkDataArray* scalars = image->GetPointData()->GetScalars();
  const double modulus = type == VTK_UNSIGNED_CHAR ? 256.0 : 65536.0;
  for (int k = 0; k < d; ++k)
    for (int j = 0; j < h; ++j)
      for (int i = 0; i < w; ++i)
        for (int c = 0; c < comps; ++c)
        {
          double v = std::fmod(7.0 * i + 31.0 * j + 101.0 * k + 13.0 * c + seed, modulus);
          if (type == VTK_FLOAT)
          {
            v = v * 0.25 - 100.0;
          }
          scalars->SetComponent(image->GetScalarIndex(i, j, k), c, InstrumentValue(type, v));
        }
  SetSpecialValues(scalars);
  return image;
}

bool SameImage(vtkImageData* got, vtkImageData* want, const char* what)
{
  int g[3], w[3];
  got->GetDimensions(g);
  want->GetDimensions(w);
  CHECK(g[0] == w[0] && g[1] == w[1] && g[2] == w[2], "%s: dimensions %d %d %d, expected %d %d %d",
    what, g[0], g[1], g[2], w[0], w[1], w[2]);
  vtkDataArray* a = got->GetPointData()->GetScalars();
  vtkDataArray* b = want->GetPointData()->GetScalars();
  CHECK(a && a->GetDataType() == b->GetDataType() &&
      a->GetNumberOfComponents() == b->GetNumberOfComponents(),
    "%s: scalars %s x %d", what, a ? a->GetDataTypeAsString() : "(none)",
    a ? a->GetNumberOfComponents() : 0);
  const size_t bytes =
    static_cast<size_t>(b->GetNumberOfValues()) * static_cast<size_t>(b->GetDataTypeSize());
  if (std::memcmp(a->GetVoidPointer(0), b->GetVoidPointer(0), bytes) != 0)
  {
    for (vtkIdType t = 0; t < b->GetNumberOfTuples(); ++t)
      for (int c = 0; c < b->GetNumberOfComponents(); ++c)
        CHECK(a->GetComponent(t, c) == b->GetComponent(t, c), "%s: tuple %lld comp %d is %g, expected %g",
          what, static_cast<long long>(t), c, a->GetComponent(t, c), b->GetComponent(t, c));
  }
  double gs[3], ws[3], go[3], wo[3];
  got->GetSpacing(gs);
  want->GetSpacing(ws);
  got->GetOrigin(go);
  want->TransformIndexToPhysicalPoint(want->GetExtent()[0], want->GetExtent()[2],
    want->GetExtent()[4], wo);
  for (int i = 0; i < 3; ++i)
  {
    CHECK(gs[i] == ws[i], "%s: spacing[%d] %g, expected %g", what, i, gs[i], ws[i]);
    CHECK(go[i] == wo[i], "%s: origin[%d] %g, expected %g", what, i, go[i], wo[i]);
  }
  return true;
}

// Lock the newest frame: a 4x3 RGB frame with `image`'s rows. A client of
// EnSight's API (no ANYFORMAT) gets frame->buffer top row first (an upright
// copy); one with ANYFORMAT the frame as stored, VTK's rows as they are,
// marked bottom row first, which copyframe() hands out top row first.
bool ClientSeesUpright(SharedMemoryImageStream client, vtkImageData* image, bool anyFormat)
{
  SharedMemoryFrame frame = nullptr;
  CHECK(SharedMemoryImageStream_lock(client, &frame) == IMAGESTREAM_NOERROR, "C client lock");
  const uint8_t* vtkRows = static_cast<const uint8_t*>(image->GetScalarPointer());
  uint32_t flags = 99;
  uint8_t upright[4 * 3 * 3];
  bool ok = frame->iWidth == 4 && frame->iHeight == 3 &&
    SharedMemoryImageStream_frameflags(client, &flags) == IMAGESTREAM_NOERROR &&
    flags == (anyFormat ? IMAGESTREAM_FRAME_BOTTOMUP : 0u) &&
    SharedMemoryImageStream_copyframe(client, upright, sizeof(upright), 0) == IMAGESTREAM_NOERROR;
  for (int y = 0; ok && y < 3; ++y)
  {
    const uint8_t* vtkRow = vtkRows + (2 - y) * 12;
    ok = std::memcmp(upright + y * 12, vtkRow, 12) == 0 &&
      std::memcmp(frame->buffer + y * 12, anyFormat ? vtkRows + y * 12 : vtkRow, 12) == 0;
  }
  SharedMemoryImageStream_unlock(client);
  return ok;
}

bool RoundTrips()
{
  const std::string path = TestFile("roundtrip");
  unlink(path.c_str());
  vtkNew<vtkTest::ErrorObserver> observer;
  vtkNew<vtkSharedMemoryImageWriter> writer;
  writer->AddObserver(vtkCommand::ErrorEvent, observer);
  writer->AddObserver(vtkCommand::WarningEvent, observer);
  writer->SetFileName(path.c_str());
  vtkNew<vtkSharedMemoryImageSource> source;
  source->AddObserver(vtkCommand::ErrorEvent, observer);
  source->AddObserver(vtkCommand::WarningEvent, observer);
  source->SetFileName(path.c_str());

  struct
  {
    const char* what;
    int type, comps, w, h, d;
  } cases[] = {
    { "rgb", VTK_UNSIGNED_CHAR, 3, 7, 5, 1 },
    { "rgba", VTK_UNSIGNED_CHAR, 4, 9, 6, 1 },
    { "gray8", VTK_UNSIGNED_CHAR, 1, 33, 17, 1 },
    { "gray16", VTK_UNSIGNED_SHORT, 1, 300, 200, 1 }, // larger: the file grows
    { "float volume", VTK_FLOAT, 1, 6, 5, 4 },
    { "int16", VTK_SHORT, 1, 40, 30, 1 },
    { "int32", VTK_INT, 1, 40, 30, 1 },
    { "uint32", VTK_UNSIGNED_INT, 1, 40, 30, 1 },
    { "float64", VTK_DOUBLE, 1, 40, 30, 1 },
    { "float64 volume", VTK_DOUBLE, 1, 6, 5, 4 },
    { "rgb again", VTK_UNSIGNED_CHAR, 3, 7, 5, 1 },
  };
  uint32_t lastFrame = 0;
  uint32_t generation = 0;
  int seed = 1;
  for (const auto& c : cases)
  {
    vtkSmartPointer<vtkImageData> image = MakeImage(c.type, c.comps, c.w, c.h, c.d, seed++);
    if (c.d > 1)
    {
      image->SetSpacing(0.5, 0.25, 2.0);
      image->SetOrigin(-1.0, 2.0, 3.5);
      image->SetExtent(2, 2 + c.w - 1, 0, c.h - 1, 1, c.d); // offset extent moves the origin
    }
    writer->SetInputData(image);
    CHECK(writer->Write() == 1, "%s: Write() failed: %s", c.what,
      observer->GetErrorMessage().c_str());
    const uint32_t frame = writer->GetLastFrameNumber();
    CHECK(frame > lastFrame, "%s: frame number %u after %u", c.what, frame, lastFrame);
    lastFrame = frame;

    CHECK(source->GetNeedsUpdate(), "%s: GetNeedsUpdate() false after a write", c.what);
    source->Update();
    CHECK(!observer->GetError(), "%s: %s", c.what, observer->GetErrorMessage().c_str());
    if (!SameImage(source->GetOutput(), image, c.what))
    {
      return false;
    }
    vtkDataArray* number = source->GetOutput()->GetFieldData()->GetArray("FrameNumber");
    CHECK(number && number->GetTuple1(0) == frame, "%s: FrameNumber", c.what);

    SharedMemoryStreamInfo info;
    CHECK(SharedMemoryImageStream_inspect(path.c_str(), &info) == IMAGESTREAM_NOERROR,
      "inspect failed");
    CHECK(info.server_alive == 1, "%s: no live server between writes", c.what);
    if (c.w == 300)
    {
      // Too large for the buffers while the source is attached: the writer
      // replaced the file, said so, and the source followed.
      CHECK(observer->GetWarning() &&
          observer->GetWarningMessage().find("replacing it") != std::string::npos,
        "%s: no warning about the replaced file", c.what);
      observer->Clear();
    }
    else if (generation != 0)
    {
      CHECK(info.server_generation == generation,
        "%s: the writer took a new server (generation %u -> %u)", c.what, generation,
        info.server_generation);
    }
    generation = info.server_generation;
  }

  // What C clients see: top row first (VTK's last row first) in EnSight's
  // API; VTK's rows as stored with ANYFORMAT.
  vtkSmartPointer<vtkImageData> rgb = MakeImage(VTK_UNSIGNED_CHAR, 3, 4, 3, 1, 77);
  writer->SetInputData(rgb);
  CHECK(writer->Write() == 1, "write for the C client");
  SharedMemoryImageStream client = nullptr, anyFormat = nullptr;
  CHECK(SharedMemoryImageStream_create(path.c_str(), IMAGESTREAM_OPTIONS_NONE, &client) >= 0,
    "C client");
  CHECK(SharedMemoryImageStream_create(
          path.c_str(), IMAGESTREAM_OPTIONS_ANYFORMAT, &anyFormat) >= 0,
    "C client (ANYFORMAT)");
  CHECK(ClientSeesUpright(client, rgb, false), "a C client does not see VTK's top row first");
  CHECK(ClientSeesUpright(anyFormat, rgb, true),
    "an ANYFORMAT client does not see VTK's rows as stored, marked bottom row first");
  SharedMemoryImageStream_destroy(anyFormat);

  // The file truncated under the writer and the client: the client gets an
  // error, not SIGBUS (its handle is dead: LAYOUT.md); the next Write()
  // serves the file anew with a warning, and a client attached again reads.
  CHECK(truncate(path.c_str(), 4096) == 0, "truncate failed");
  SharedMemoryFrame frame = nullptr;
  CHECK(SharedMemoryImageStream_lock(client, &frame) == IMAGESTREAM_BAD_FILE_SIZE,
    "lock on a truncated file");
  SharedMemoryImageStream_destroy(client);
  observer->Clear();
  vtkSmartPointer<vtkImageData> again = MakeImage(VTK_UNSIGNED_CHAR, 3, 4, 3, 1, 78);
  writer->SetInputData(again);
  CHECK(writer->Write() == 1, "write after truncation: %s", observer->GetErrorMessage().c_str());
  CHECK(observer->GetWarningMessage().find("truncated") != std::string::npos,
    "no warning for the truncated file: %s", observer->GetWarningMessage().c_str());
  CHECK(SharedMemoryImageStream_create(path.c_str(), IMAGESTREAM_OPTIONS_NONE, &client) >= 0,
    "C client after truncation");
  CHECK(ClientSeesUpright(client, again, false), "after truncation, the client misreads the frame");
  SharedMemoryImageStream_destroy(client);

  writer->ReleaseStream();
  SharedMemoryStreamInfo info;
  CHECK(SharedMemoryImageStream_inspect(path.c_str(), &info) == IMAGESTREAM_NOERROR &&
      info.server_alive == 0,
    "ReleaseStream() left the server alive");
  unlink(path.c_str());
  return true;
}

bool EnSightLayout()
{
  const std::string path = TestFile("ensight");
  unlink(path.c_str());
  vtkNew<vtkTest::ErrorObserver> observer;
  vtkNew<vtkSharedMemoryImageWriter> writer;
  writer->AddObserver(vtkCommand::ErrorEvent, observer);
  writer->SetFileName(path.c_str());
  writer->EnSightLayoutOn();

  // Refused: gray in EnSight's layout.
  writer->SetInputData(MakeImage(VTK_UNSIGNED_CHAR, 1, 8, 8, 1, 0));
  CHECK(writer->Write() == 0, "gray accepted in EnSight's layout");
  CHECK(observer->GetErrorMessage().find("EnSight") != std::string::npos, "message: %s",
    observer->GetErrorMessage().c_str());
  observer->Clear();

  // EnSight's layout drops frames while no client is attached: attach first.
  vtkSmartPointer<vtkImageData> first = MakeImage(VTK_UNSIGNED_CHAR, 3, 8, 6, 1, 3);
  writer->SetInputData(first);
  CHECK(writer->Write() == 1, "first EnSight write: %s", observer->GetErrorMessage().c_str());
  vtkNew<vtkSharedMemoryImageSource> source;
  source->AddObserver(vtkCommand::ErrorEvent, observer);
  source->SetFileName(path.c_str());
  source->Update();
  CHECK(source->IsAttached(), "the source did not attach to EnSight's layout");
  vtkSmartPointer<vtkImageData> image = MakeImage(VTK_UNSIGNED_CHAR, 3, 8, 6, 1, 9);
  writer->SetInputData(image);
  CHECK(writer->Write() == 1, "EnSight write: %s", observer->GetErrorMessage().c_str());
  CHECK(source->GetNeedsUpdate(), "GetNeedsUpdate() false on EnSight's layout");
  source->Update();
  if (!SameImage(source->GetOutput(), image, "EnSight rgb"))
  {
    return false;
  }
  SharedMemoryStreamInfo info;
  CHECK(SharedMemoryImageStream_inspect(path.c_str(), &info) == IMAGESTREAM_NOERROR &&
      info.layout == IMAGESTREAM_LAYOUT_ENSIGHT,
    "the file is not in EnSight's layout");
  unlink(path.c_str());
  return true;
}

bool Refusals()
{
  const std::string path = TestFile("refused");
  unlink(path.c_str());
  vtkNew<vtkTest::ErrorObserver> observer;
  vtkNew<vtkSharedMemoryImageWriter> writer;
  writer->AddObserver(vtkCommand::ErrorEvent, observer);

  writer->SetInputData(MakeImage(VTK_UNSIGNED_CHAR, 3, 4, 4, 1, 0));
  CHECK(writer->Write() == 0, "Write() with no FileName succeeded");
  CHECK(observer->CheckErrorMessage("no FileName") == 0, "message: %s",
    observer->GetErrorMessage().c_str());
  observer->Clear();

  writer->SetFileName(path.c_str());
  struct
  {
    int type, comps;
    const char* expected;
  } refused[] = {
    { VTK_LONG_LONG, 1, "scalar type must be" },
    { VTK_SIGNED_CHAR, 1, "scalar type must be" },
    { VTK_UNSIGNED_CHAR, 2, "1, 3 or 4 components" },
    { VTK_FLOAT, 3, "must have 1 component" },
    { VTK_DOUBLE, 2, "must have 1 component" },
    { VTK_SHORT, 3, "must have 1 component" },
  };
  for (const auto& r : refused)
  {
    writer->SetInputData(MakeImage(r.type, r.comps, 4, 4, 1, 0));
    CHECK(writer->Write() == 0, "%s x %d accepted", vtkImageScalarTypeNameMacro(r.type), r.comps);
    CHECK(observer->GetErrorMessage().find(r.expected) != std::string::npos,
      "message for %s x %d: %s", vtkImageScalarTypeNameMacro(r.type), r.comps,
      observer->GetErrorMessage().c_str());
    observer->Clear();
  }
  CHECK(access(path.c_str(), F_OK) != 0, "a refused write created the file");
  return true;
}

bool BadFiles()
{
  vtkNew<vtkTest::ErrorObserver> observer;
  vtkNew<vtkSharedMemoryImageSource> source;
  source->AddObserver(vtkCommand::ErrorEvent, observer);
  source->AddObserver(vtkCommand::WarningEvent, observer);

  // Missing: a status naming the file (no warning, no error), an empty output.
  const std::string missing = TestFile("missing");
  unlink(missing.c_str());
  source->SetFileName(missing.c_str());
  source->Update();
  CHECK(!observer->GetWarning() && !observer->GetError(), "missing file: a message: %s%s",
    observer->GetWarningMessage().c_str(), observer->GetErrorMessage().c_str());
  CHECK(std::string(source->GetStatus()).find(missing) != std::string::npos,
    "the status does not name the file: %s", source->GetStatus());
  CHECK(source->GetOutput()->GetNumberOfPoints() == 0, "points from a missing file");
  observer->Clear();

  // Garbage: an error naming the file and the cause, once.
  const std::string garbage = TestFile("garbage");
  // A new file (O_EXCL, never through a symbolic link): the name is
  // predictable, so a file or link someone else put there is not written.
  unlink(garbage.c_str());
  const int gfd = open(garbage.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
  FILE* f = gfd >= 0 ? fdopen(gfd, "wb") : nullptr;
  CHECK(f != nullptr, "cannot create %s", garbage.c_str());
  for (int i = 0; i < 65536; ++i)
  {
    std::fputc((i * 7919 + 13) & 255, f);
  }
  std::fclose(f);
  // Just written, it may be a file a server is setting up: a status, no error.
  source->SetFileName(garbage.c_str());
  source->Update();
  CHECK(!observer->GetError() && !observer->GetWarning(), "a new file: a message: %s%s",
    observer->GetErrorMessage().c_str(), observer->GetWarningMessage().c_str());
  CHECK(std::string(source->GetStatus()).find("not valid yet") != std::string::npos,
    "status of a new file: %s", source->GetStatus());
  // A minute old, still garbage: an error.
  struct timeval old[2];
  gettimeofday(&old[0], nullptr);
  old[0].tv_sec -= 60;
  old[1] = old[0];
  CHECK(utimes(garbage.c_str(), old) == 0, "utimes %s", garbage.c_str());
  source->SetFileName(nullptr);
  source->SetFileName(garbage.c_str());
  source->Update();
  CHECK(observer->GetError(), "garbage file: no error");
  CHECK(observer->GetErrorMessage().find(garbage) != std::string::npos &&
      observer->GetErrorMessage().find("not a shared-memory image stream") != std::string::npos,
    "garbage message: %s", observer->GetErrorMessage().c_str());
  CHECK(source->GetOutput()->GetNumberOfPoints() == 0, "points from a garbage file");
  observer->Clear();
  CHECK(!source->GetNeedsUpdate(), "GetNeedsUpdate() true on a garbage file");
  CHECK(!observer->GetError(), "the garbage file was reported twice");

  // A writer turned onto the garbage file fails cleanly too.
  vtkNew<vtkSharedMemoryImageWriter> writer;
  writer->AddObserver(vtkCommand::ErrorEvent, observer);
  writer->SetFileName(garbage.c_str());
  writer->SetInputData(MakeImage(VTK_UNSIGNED_CHAR, 3, 4, 4, 1, 0));
  const int written = writer->Write();
  CHECK(written == 1 || observer->GetError(), "a failed write said nothing");
  unlink(garbage.c_str());
  return true;
}
}

int TestSharedMemoryImageWriter(int, char*[])
{
  const bool ok = RoundTrips() && EnSightLayout() && Refusals() && BadFiles();
  if (!ok)
  {
    std::fprintf(stderr, "TestSharedMemoryImageWriter failed\n");
    return EXIT_FAILURE;
  }
  std::printf("TestSharedMemoryImageWriter passed\n");
  return EXIT_SUCCESS;
}

int main(int argc, char* argv[])
{
  return TestSharedMemoryImageWriter(argc, argv);
}
